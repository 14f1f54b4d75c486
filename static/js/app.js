// Confirmation for destructive actions without inline script (CSP forbids it):
// any form or button with data-confirm asks first.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const message = form.dataset.confirm || (event.submitter && event.submitter.dataset.confirm);
  if (message && !window.confirm(message)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// Select-all checkbox for bulk actions: <input type="checkbox" data-select-all="name">.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box.dataset && box.dataset.selectAll) {
    document.querySelectorAll(`input[type=checkbox][name="${box.dataset.selectAll}"]`).forEach((cb) => {
      cb.checked = box.checked;
    });
  }
});

// The phone menu is a <details> (it opens and closes without script); with script, Escape and a click
// outside close it too, and focus goes back to its toggle.
document.addEventListener("keydown", (event) => {
  const menu = document.getElementById("navmenu");
  if (event.key === "Escape" && menu && menu.open) {
    menu.open = false;
    menu.querySelector("summary").focus();
  }
});
document.addEventListener("click", (event) => {
  const menu = document.getElementById("navmenu");
  if (menu && menu.open && !menu.contains(event.target)) {
    menu.open = false;
  }
});

// A box that scrolls sideways (a wide table in its card) must be reachable by keyboard to be scrolled:
// give the ones that overflow a tab stop, and take it back when they stop overflowing.
function scrollBoxOf(table) {
  for (let box = table.parentElement; box && box !== document.body; box = box.parentElement) {
    const overflow = getComputedStyle(box).overflowX;
    if (overflow === "auto" || overflow === "scroll") {
      return box;
    }
  }
  return null;
}
function markScrollers() {
  const boxes = new Set(document.querySelectorAll("main pre"));
  document.querySelectorAll("main .table").forEach((table) => boxes.add(scrollBoxOf(table)));
  boxes.forEach((box) => {
    if (!box) {
      return;
    }
    if (box.scrollWidth > box.clientWidth + 1) {
      if (!box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.dataset.scrollTab = "1";
      }
    } else if (box.dataset.scrollTab) {
      box.removeAttribute("tabindex");
      delete box.dataset.scrollTab;
    }
  });
}
document.addEventListener("DOMContentLoaded", markScrollers);
document.addEventListener("htmx:afterSettle", markScrollers);
window.addEventListener("resize", markScrollers);
