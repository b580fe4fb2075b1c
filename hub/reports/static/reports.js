/* The dashboard's one form: the month's sales target, typed as a person types an amount
   (the store's way, or plain 1234.50), sent to the API; the page reloads once it is in the
   books. Problems are said beside the field. Text goes in with textContent only. */
"use strict";
(function () {
  const L = window.loupe;
  const form = document.getElementById("target-form");
  if (!L || !form) return;
  const cur = form.dataset.currency || "";
  const slot = form.querySelector("[role=alert]");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    slot.textContent = "";
    const amount = L.parseAmount(form.elements.amount.value.trim(), cur);
    if (amount === null || amount <= 0) {
      slot.textContent = L._("Type an amount such as {example}", { example: L.fmt(123450, cur) });
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await L.api("PUT", "/api/v1/reports/targets/" + encodeURIComponent(form.dataset.month), { amount });
      window.location.reload();
    } catch (e) {
      slot.textContent = e.message;
      button.disabled = false;
    }
  });
})();
