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
