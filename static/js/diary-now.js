// The diary's "now" line: the server places it; this moves it down a minute each minute.
(function () {
  "use strict";
  const line = document.querySelector("[data-diary-now]");
  if (!line) return;
  const first = Number(line.style.getPropertyValue("--now"));
  const length = Number(line.dataset.length);
  const loaded = Date.now();
  window.setInterval(function () {
    const minute = first + Math.floor((Date.now() - loaded) / 60000);
    if (minute > length) {
      line.hidden = true;
    } else {
      line.style.setProperty("--now", String(minute));
    }
  }, 30000);
})();
