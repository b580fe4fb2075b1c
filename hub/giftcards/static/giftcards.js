// The sales floor's gift card panel: a card's balance by scanning or typing its number,
// taken as payment; a new card of an amount into the cart.
(function () {
  "use strict";
  const L = window.loupe;
  const $ = (id) => document.getElementById(id);
  L.onFloor((floor) => {
    const number = $("gc-number"); if (!number) return;
    let found = null;
    const show = (card) => {
      found = card;
      $("gc-error").textContent = "";
      $("gc-balance").textContent = L._("Balance {balance} · can pay {available}", {
        balance: L.fmt(card.balance, card.currency), available: L.fmt(card.available, card.currency) });
      $("gc-take").hidden = !(card.available > 0);
    };
    $("gc-check-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      found = null; $("gc-take").hidden = true; $("gc-balance").textContent = "";
      try { show(await L.api("GET", "/api/v1/gift-cards/" + encodeURIComponent(number.value.trim()))); }
      catch (e) { $("gc-error").textContent = e.message; }
    });
    $("gc-take").addEventListener("click", async () => {
      if (!found) return;
      const cart = floor.cart() || {};
      const amount = Math.min(found.available, cart.due || 0);
      if (!(amount > 0)) { $("gc-error").textContent = L._("Nothing is due."); return; }
      // floor.change says a refusal itself (a toast) and answers null then.
      if (await floor.change("POST", floor.cartPath() + "/tenders", { type: "gift_card", amount, number: found.code })) {
        $("gc-take").hidden = true; number.value = ""; $("gc-balance").textContent = "";
      }
    });
    const sell = $("gc-sell-form");
    if (sell) sell.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("gc-error").textContent = "";
      const amount = L.parseAmount($("gc-amount").value, floor.currency);
      if (amount === null || !(amount > 0)) { $("gc-error").textContent = L._("Type the card's amount."); return; }
      if (await floor.change("POST", floor.cartPath() + "/gift-cards", { amount })) $("gc-amount").value = "";
    });
  });
})();
