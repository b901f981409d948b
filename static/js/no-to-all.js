// The phone booking's "No to every question not answered above" (templates/staff/book_plan.html):
// ticking it shows "No" on each unanswered question at once. Without this file the server does the
// same when the form is posted (staff/forms.py, PhoneAnswersForm).
(function () {
  "use strict";
  var box = document.getElementById("id_all_no");
  if (!box) {
    return;
  }
  box.addEventListener("change", function () {
    if (!box.checked) {
      return;
    }
    var names = {};
    Array.prototype.forEach.call(box.form.querySelectorAll("input[type=radio][name^='answer_']"), function (radio) {
      names[radio.name] = true;
    });
    Object.keys(names).forEach(function (name) {
      if (!box.form.querySelector("input[name='" + name + "']:checked")) {
        var no = box.form.querySelector("input[name='" + name + "'][value='no']");
        if (no) {
          no.checked = true;
        }
      }
    });
  });
})();
