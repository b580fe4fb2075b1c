/* The memo screens: receiving a vendor's memo (and adding a vendor), paying a vendor or a
   consignor, giving a piece back, sending a piece on approval (the client found by name),
   taking it back or selling it to her, and taking a piece on consignment. The pages are
   rendered by the hub in the store's words; this script sends the forms to the API and
   reloads the page once the books changed. Text goes in with textContent only. */
"use strict";
(function () {
  const L = window.loupe;
  if (!L) return;
  const $ = (id) => document.getElementById(id);
  const _ = L._;
  const enc = encodeURIComponent;
  const scope = document.querySelector(".memo[data-currency]");
  if (!scope) return;
  const cur = scope.dataset.currency || "";
  const example = () => L.fmt(123450, cur);

  function problem(field, message) { const e = new Error(message); e.body = { problems: [{ field, message }] }; return e; }
  function amountIn(input, field, required) {
    const typed = input.value.trim();
    if (!typed) { if (required) throw problem(field, _("Type an amount such as {example}", { example: example() })); return null; }
    const amount = L.parseAmount(typed, cur);
    if (amount === null || amount < 0) throw problem(field, _("Type an amount such as {example}", { example: example() }));
    return amount;
  }
  // A percentage as typed (25 or 12,5) -> basis points; null when it cannot be read.
  function basisPoints(text) {
    const m = /^(\d{1,3})(?:[.,](\d{1,2}))?$/.exec(String(text).trim().replace(/\s*%$/, ""));
    return m ? Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0")) : null;
  }

  // Every sentence of a refused form beside its field (the longest matching name), the
  // rest in the form's alert line.
  function showProblems(form, e) {
    const general = form.querySelector("[role=alert]");
    form.querySelectorAll("[data-error-for]").forEach((p) => { p.textContent = ""; });
    if (general) general.textContent = "";
    const body = (e && e.body) || {};
    const problems = body.problems && body.problems.length ? body.problems
      : [{ field: body.field || "", message: e.message }];
    problems.forEach((p) => {
      const field = p.field || "";
      let slot = null, best = -1;
      form.querySelectorAll("[data-error-for]").forEach((n) => {
        const name = n.dataset.errorFor;
        if (name && name.length > best && (field === name || field.startsWith(name + ".") || field.startsWith(name + "["))) { slot = n; best = name.length; }
      });
      const target = slot || general;
      if (target) target.textContent = target.textContent ? target.textContent + " " + p.message : p.message;
    });
    const first = form.querySelector("[data-error-for]:not(:empty)") || general;
    if (first) first.scrollIntoView({ block: "center" });
  }

  // One form, one call: problems shown beside their fields, the page reloaded once done.
  function onSubmit(form, send, done) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      try {
        const answer = await send();
        L.toast(done(answer));
        window.location.reload();
      } catch (e) { showProblems(form, e); } finally { if (button) button.disabled = false; }
    });
  }

  function clientPicker(prefix) {
    const search = $(prefix + "-client-search"), results = $(prefix + "-client-results");
    if (!search) return;
    let timer = null, asked = "";
    search.addEventListener("input", () => {
      $(prefix + "-client-id").value = ""; $(prefix + "-client-chosen").textContent = "";
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = search.value.trim(); asked = q;
        results.replaceChildren();
        if (q.length < 2) return;
        try {
          const r = await L.api("GET", "/api/v1/clients?limit=8&q=" + enc(q));
          if (asked !== q) return;  // a later search is on its way
          r.clients.forEach((c) => results.append(L.el("li", {}, L.el("span", {}, c.name),
            L.el("button", { type: "button", onclick: () => {
              $(prefix + "-client-id").value = c.client_id; search.value = c.name;
              $(prefix + "-client-chosen").textContent = _("For {name}", { name: c.name });
              results.replaceChildren();
            } }, _("Choose")))));
          if (!r.clients.length) results.append(L.el("li", { class: "muted" }, _("No client found.")));
        } catch (e) { L.toast(e.message, true); }
      }, 250);
    });
  }

  // A card's last 4 digits are asked only for a card.
  document.querySelectorAll("select.tender-type").forEach((select) => {
    const row = select.closest("form");
    const show = () => row.querySelectorAll(".card-only").forEach((n) => { n.hidden = select.value !== "card"; });
    select.addEventListener("change", show); show();
  });

  // -- a vendor's memo ------------------------------------------------------------------------
  const receive = $("memo-receive-form");
  if (receive) {
    $("memo-add-piece").addEventListener("click", () => {
      const rows = receive.querySelectorAll(".memo-piece");
      const copy = rows[rows.length - 1].cloneNode(true);
      copy.querySelectorAll("input").forEach((i) => { i.value = ""; });
      $("memo-pieces").append(copy);
      copy.querySelector("input").focus();
    });
    onSubmit(receive, () => {
      const body = { vendor_id: $("memo-vendor").value, memo_ref: $("memo-ref").value.trim(), pieces: [] };
      if ($("memo-terms").value) body.terms_days = Number($("memo-terms").value);
      if ($("memo-due").value) body.due = $("memo-due").value;
      receive.querySelectorAll(".memo-piece").forEach((row, i) => {
        const v = (name) => row.querySelector(".p-" + name).value.trim();
        const where = "pieces[" + i + "]";
        const piece = { item_id: v("item_id"), sku: v("sku"), category: v("category"), description: v("description"),
          cost: amountIn(row.querySelector(".p-cost"), where + ".cost", true),
          tag_price: amountIn(row.querySelector(".p-tag_price"), where + ".tag_price", true) };
        const owed = amountIn(row.querySelector(".p-owed"), where + ".owed", false);
        if (owed !== null) piece.owed = owed;
        body.pieces.push(piece);
      });
      return L.api("POST", "/api/v1/memo/receipts", body);
    }, (r) => _("{count} pieces received on memo.", { count: r.received.length }));
  }
  const vendorForm = $("memo-vendor-form");
  if (vendorForm) {
    onSubmit(vendorForm, () => L.api("POST", "/api/v1/memo/vendors", {
      name: $("vendor-name").value.trim(), terms_days: Number($("vendor-terms").value) }),
    (v) => _("{name} added.", { name: v.name }));
  }

  // -- paying a vendor or a consignor ---------------------------------------------------------
  ["memo-pay-form", "memo-payout-form"].forEach((id) => {
    const form = $(id);
    if (!form) return;
    onSubmit(form, () => L.api("POST", form.dataset.path, {
      amount: amountIn(form.elements.amount, "amount", true),
      method: form.elements.method.value, reference: form.elements.reference.value.trim() }),
    () => _("Payment recorded."));
  });

  // -- giving back ----------------------------------------------------------------------------
  document.querySelectorAll("button[data-return-item]").forEach((button) => {
    button.addEventListener("click", async () => {
      const item = button.dataset.returnItem;
      if (!window.confirm(_("Give piece {item} back to its vendor? It will not be sold again.", { item }))) return;
      try {
        await L.api("POST", "/api/v1/memo/pieces/" + enc(item) + "/return", {});
        L.toast(_("Piece {item} given back.", { item })); window.location.reload();
      } catch (e) { L.toast(e.message, true); }
    });
  });
  document.querySelectorAll("button[data-give-back]").forEach((button) => {
    button.addEventListener("click", async () => {
      const id = button.dataset.giveBack;
      if (!window.confirm(_("Give this piece back to her? Its consignment ends."))) return;
      try {
        await L.api("POST", "/api/v1/memo/consignments/" + enc(id) + "/return", {});
        L.toast(_("Given back.")); window.location.reload();
      } catch (e) { L.toast(e.message, true); }
    });
  });

  // -- on approval ----------------------------------------------------------------------------
  clientPicker("out");
  const out = $("memo-out-form");
  if (out) {
    onSubmit(out, () => {
      if (!$("out-client-id").value) throw problem("client_id", _("Choose the client first."));
      return L.api("POST", "/api/v1/memo/approvals", {
        item_id: $("out-item").value.trim(), client_id: $("out-client-id").value, due: $("out-due").value });
    }, (o) => _("{item} is out on approval.", { item: o.description }));
  }
  document.querySelectorAll("button[data-back]").forEach((button) => {
    button.addEventListener("click", async () => {
      try {
        await L.api("POST", "/api/v1/memo/approvals/" + enc(button.dataset.back) + "/back", {});
        L.toast(_("Back in stock.")); window.location.reload();
      } catch (e) { L.toast(e.message, true); }
    });
  });
  document.querySelectorAll("form.memo-sale").forEach((form) => {
    onSubmit(form, () => {
      const tender = { type: form.querySelector(".tender-type").value, amount: Number(form.querySelector(".amount").value) };
      if (tender.type === "card") tender.last4 = form.querySelector(".last4").value.trim();
      return L.withApproval("POST", "/api/v1/memo/approvals/" + enc(form.dataset.memoOut) + "/sale",
        { register_id: form.querySelector(".register").value, tenders: [tender] });
    }, (sale) => _("Sold: receipt {sale}.", { sale: sale.sale_id }));
  });

  // -- consignment ----------------------------------------------------------------------------
  clientPicker("consign");
  const consign = $("memo-consign-form");
  if (consign) {
    onSubmit(consign, () => {
      if (!$("consign-client-id").value) throw problem("client_id", _("Choose the client first."));
      const bp = basisPoints($("consign-commission").value);
      if (bp === null) throw problem("commission_bp", _("Type a percentage such as 25 or 12.5"));
      const term = $("consign-term").value.trim();
      return L.api("POST", "/api/v1/memo/consignments", {
        client_id: $("consign-client-id").value, commission_bp: bp,
        minimum: amountIn($("consign-minimum"), "minimum", true),
        term_days: /^\d+$/.test(term) ? Number(term) : term,
        piece: { item_id: $("consign-item").value.trim(), sku: $("consign-sku").value.trim(),
          category: $("consign-category").value, description: $("consign-description").value.trim(),
          tag_price: amountIn($("consign-price"), "piece.tag_price", true) } });
    }, (c) => _("Consignment {id} taken in.", { id: c.consignment_id }));
  }
})();
