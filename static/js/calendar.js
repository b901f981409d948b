// Progressive enhancement of the month calendar (templates/bookings/_calendar.html): a day, a month
// or the practitioner filter loads in place instead of a full reload. Without this file every
// link and form works as it is. A file rather than an inline script, for the CSP.
(function () {
  "use strict";
  var root = document.querySelector("[data-calendar]");
  if (!root || !window.fetch || !window.DOMParser || !window.history.pushState) {
    return;
  }

  function load(url, push, focusId) {
    root.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-calendar]");
        if (!fresh) {
          throw new Error("no calendar");
        }
        root.innerHTML = fresh.innerHTML;
        root.removeAttribute("aria-busy");
        if (push) {
          window.history.pushState({ calendar: true }, "", url);
        }
        var target = focusId && document.getElementById(focusId);
        if (target) {
          target.focus();
        }
      })
      .catch(function () {
        window.location.assign(url); // the plain page, as without JavaScript
      });
  }

  root.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-calendar-nav]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    var kind = link.getAttribute("data-calendar-nav");
    load(link.href, true, kind === "day" ? "calendar-times-heading" : "calendar-caption");
  });

  root.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-calendar-filter]");
    if (!form) {
      return;
    }
    event.preventDefault();
    var query = new URLSearchParams(new FormData(form)).toString();
    load(window.location.pathname + "?" + query, true, "calendar-times-heading");
  });

  root.addEventListener("change", function (event) {
    if (event.target.id === "calendar-practitioner") {
      event.target.form.requestSubmit();
    }
  });

  window.addEventListener("popstate", function () {
    load(window.location.href, false, null);
  });
})();
