// Progressive enhancement: move keyboard and screen-reader focus to the error summary
// (role=alert announces it anyway). A file rather than an inline script, for the CSP.
(function () {
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();
