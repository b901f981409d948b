// Progressive enhancement of booking step 2 (templates/bookings/book_review.html) and of the staff's
// phone booking (templates/staff/book_plan.html): choosing another time for a session re-plans the
// later ones at once. The form is posted in the background and the plan part of the answer replaces
// ours; without this file "Continue" (staff: "Plan again") does the same round trip.
(function () {
  "use strict";
  var form = document.getElementById("series-form");
  if (!form || !window.fetch || !window.DOMParser) {
    return;
  }
  form.addEventListener("change", function (event) {
    var plan = document.getElementById("series-plan");
    // Only the sessions' times re-plan (the staff page's form also holds the safety answers).
    if (event.target.type !== "radio" || !plan.contains(event.target)) {
      return;
    }
    var data = new FormData(form);
    data.append("replan", "1");
    plan.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("data-replan"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("series-plan");
        if (!fresh) {
          throw new Error("no plan");
        }
        var status = document.getElementById("plan-status");
        var freshStatus = fresh.querySelector("#plan-status");
        // Everything but the live region is replaced, so screen readers announce only what changed.
        Array.prototype.forEach.call(plan.children, function (child) {
          if (child !== status) {
            child.remove();
          }
        });
        Array.prototype.forEach.call(fresh.children, function (child) {
          if (child.id !== "plan-status") {
            plan.appendChild(document.importNode(child, true));
          }
        });
        status.innerHTML = freshStatus ? freshStatus.innerHTML : "";
        var actions = page.getElementById("series-actions");
        if (actions) {
          document.getElementById("series-actions").replaceWith(document.importNode(actions, true));
        }
        plan.removeAttribute("aria-busy");
        var again = document.getElementById(event.target.id);
        if (again) {
          again.focus();
        }
      })
      .catch(function () {
        form.requestSubmit(); // the same round trip without JavaScript
      });
  });
})();
