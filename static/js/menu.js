// The site header's menu button on small screens: Bootstrap's collapse markup, without loading
// Bootstrap's 80 KB JavaScript bundle for it. A click on a [data-bs-toggle="collapse"] button shows
// or hides the element its data-bs-target names, and says which in aria-expanded.
document.addEventListener("click", function (event) {
  var toggle = event.target.closest('[data-bs-toggle="collapse"]');
  var target = toggle && document.querySelector(toggle.getAttribute("data-bs-target"));
  if (!target) {
    return;
  }
  event.preventDefault();
  var open = target.classList.toggle("show");
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
  toggle.classList.toggle("collapsed", !open);
});
