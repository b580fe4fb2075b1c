// Travellers' money: the sales floor's foreign currency panel (the home amount shown live,
// computed by the hub), the exchange rates page (a manager accepts a held move) and the
// tax-free form of a sale.
(function () {
  "use strict";
  const L = window.loupe;
  const $ = (id) => document.getElementById(id);
  const _ = L._; // bare, so scripts/words finds the messages

  // -- the sales floor ---------------------------------------------------------------------
  L.onFloor(async (floor) => {
    const select = $("fx-currency"); if (!select) return;
    const amount = $("fx-amount"), quote = $("fx-quote"), error = $("fx-error"), type = $("fx-type");
    let rates = [];
    const foreignLabel = (tender) => {
      const d = tender.detail || {};
      let label = L.term("tender", tender.type) + (d.last4 ? " ···· " + d.last4 : "");
      if (d.currency && /^[0-9]+$/.test(d.foreign_amount || "")) label += " · " + L.fmt(Number(d.foreign_amount), d.currency);
      return label;
    };
    floor.tenderLabel("cash", foreignLabel);
    floor.tenderLabel("card", foreignLabel);
    try {
      const view = await L.api("GET", "/api/v1/exchange-rates");
      rates = view.rates.filter((r) => r.valid);
      const formats = {}; rates.forEach((r) => { formats[r.currency] = r.format; });
      L.addCurrencies(formats);
      if (!view.cards) type.querySelector("option[value=card]").remove();
    } catch (e) { error.textContent = e.message; }
    select.replaceChildren(...rates.map((r) => L.el("option", { value: r.currency }, r.currency + " · " + r.name)));
    if (!rates.length) {
      $("fx-take").disabled = true;
      quote.textContent = _("No exchange rate is valid now: foreign money cannot be taken.");
      return;
    }
    floor.reload(); // the cart's tenders again, now labelled with their currency
    let asked = 0, timer = null;
    const showQuote = async () => {
      const n = ++asked, text = amount.value.trim();
      error.textContent = "";
      if (!text) { quote.textContent = ""; return; }
      try {
        const q = await L.api("GET", "/api/v1/exchange-rates/quote?currency=" + encodeURIComponent(select.value) + "&amount=" + encodeURIComponent(text));
        if (n !== asked) return; // an older answer arriving late
        quote.textContent = _("{foreign} counts for {amount} ({rate})", { foreign: q.foreign_text, amount: q.amount_text, rate: q.rate_text });
      } catch (e) { if (n === asked) { quote.textContent = ""; error.textContent = e.message; } }
    };
    const later = () => { clearTimeout(timer); timer = setTimeout(showQuote, 250); };
    amount.addEventListener("input", later);
    select.addEventListener("change", showQuote);
    type.addEventListener("change", () => { $("fx-last4-label").hidden = type.value !== "card"; });
    $("fx-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      if (!amount.value.trim()) { error.textContent = _("Type the amount she hands over."); return; }
      const body = { currency: select.value, foreign_amount: amount.value.trim(), type: type.value };
      if (type.value === "card") body.last4 = $("fx-last4").value.trim();
      if (await floor.change("POST", floor.cartPath() + "/foreign-tenders", body)) {
        amount.value = ""; quote.textContent = ""; $("fx-last4").value = "";
      }
    });
  });

  // -- the exchange rates page: a manager accepts a held move ------------------------------
  document.querySelectorAll(".fx-accept").forEach((button) => {
    button.addEventListener("click", async () => {
      const ok = window.confirm(_("Put the rate of {currency} in force?", { currency: button.dataset.currency }));
      if (!ok) return;
      try {
        await L.api("POST", "/api/v1/exchange-rates/accept", { held_seq: Number(button.dataset.seq), currency: button.dataset.currency });
        window.location.reload();
      } catch (e) { $("fx-accept-error").textContent = e.message; }
    });
  });

  // -- a sale's tax-free form ----------------------------------------------------------------
  const form = $("tax-free-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    form.querySelectorAll("p.error").forEach((p) => { p.textContent = ""; });
    const body = {};
    ["document_type", "document_number", "nationality", "residence", "address"].forEach((k) => { body[k] = form.elements[k].value; });
    $("tf-submit").disabled = true;
    try {
      const made = await L.api("POST", "/api/v1/sales/" + encodeURIComponent(form.dataset.saleId) + "/tax-free", body);
      window.location.assign("/tax-free/" + encodeURIComponent(made.number));
    } catch (e) {
      const problems = (e.body && e.body.problems) || [];
      problems.forEach((p) => { const box = $("tf-error-" + p.field); if (box) box.textContent = p.message; });
      if (!problems.length || problems.some((p) => !$("tf-error-" + p.field))) $("tf-error").textContent = e.message;
      $("tf-submit").disabled = false;
    }
  });
})();
