/* Buying gold: the buy form (her name, lots with the scale and the camera, the price worked
   out by the hub, the payout), a purchase's releases, the register's encrypted export and
   print, and the sales floor's trade-in panel. The pages are rendered by the hub in the
   store's words; this script sends forms to the API. Text goes in with textContent only. */
"use strict";
(function () {
  const L = window.loupe;
  const $ = (id) => document.getElementById(id);
  const _ = L._;
  const enc = encodeURIComponent;
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const W = (() => { try { return JSON.parse($("loupe-words").textContent); } catch (e) { return {}; } })();
  const NUM = W.number || { decimal: ".", group: ",", minus: "-", grouping: [3, 3] };

  // A weight in grams as typed (4,215 or 4.215) -> milligrams, or null.
  function milligrams(text) {
    let s = String(text).replace(/[\s\u00a0\u202f]/g, "").replace(/g$/i, "");
    if (!s) return null;
    if (NUM.group !== "." && NUM.group !== NUM.decimal) s = s.split(NUM.group).join("");
    s = s.split(NUM.decimal).join(".");
    const m = /^(\d{1,5})(?:\.(\d{1,3}))?$/.exec(s);
    return m ? Number(m[1]) * 1000 + Number((m[2] || "").padEnd(3, "0")) : null;
  }
  const typedGrams = (mg) => String(Math.floor(mg / 1000)) + NUM.decimal + String(mg % 1000).padStart(3, "0");

  // -- the sales floor: her open trade-ins taken as a tender --------------------------------
  if (L.onFloor) L.onFloor((floor) => {
    const list = $("ti-list"); if (!list) return;
    let shownFor = null;
    async function refresh() {
      const cart = floor.cart() || {};
      const client = cart.client_id || null;
      if (client === shownFor) return;
      shownFor = client;
      list.replaceChildren(); $("ti-error").textContent = "";
      $("ti-none").hidden = !!client;
      $("ti-new").href = "/buying?payout=trade_in" + (client ? "&client_id=" + enc(client) : "");
      if (!client) return;
      try {
        const r = await L.api("GET", "/api/v1/clients/" + enc(client) + "/trade-ins");
        if (!r.trade_ins.length) list.append(L.el("li", { class: "muted" }, _("She has no open trade-in.")));
        r.trade_ins.forEach((t) => list.append(L.el("li", {},
          L.el("span", {}, _("{number}: {amount} left", { number: t.buyin_id, amount: L.fmt(t.left, t.currency) })),
          L.el("button", { type: "button", onclick: async () => {
            const due = (floor.cart() || {}).due || 0;
            const amount = Math.min(t.left, due);
            if (!(amount > 0)) { $("ti-error").textContent = _("Nothing is due."); return; }
            if (await floor.change("POST", floor.cartPath() + "/tenders", { type: "trade_in", amount, reference: t.buyin_id })) { shownFor = undefined; refresh(); }
          } }, _("Take as payment")))));
      } catch (e) { $("ti-error").textContent = e.message; }
    }
    floor.onCart(refresh);
    refresh();
  });

  const root = document.querySelector(".buying[data-page]");
  if (!root) return;
  const page = root.dataset.page;
  const cur = root.dataset.currency || "";

  function showError(box, e) {
    const body = (e && e.body) || {};
    box.textContent = body.problems && body.problems.length
      ? body.problems.map((p) => (p.label ? p.label + ": " : "") + p.message).join(" ") : e.message;
  }

  // -- the buy form ----------------------------------------------------------------------------
  if (page === "buy") {
    const form = $("buy-form"), lots = $("buy-lots"), error = $("buy-error");
    const first = lots.querySelector("[data-lot]").cloneNode(true);
    const register = root.dataset.register || "";
    // Her name: a few letters, then chosen from the book.
    const search = $("buy-client-search"), results = $("buy-client-results");
    let timer = null;
    search.addEventListener("input", () => {
      $("buy-client-id").value = ""; $("buy-client-chosen").textContent = "";
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = search.value.trim(); results.replaceChildren();
        if (q.length < 2) return;
        try {
          const r = await L.api("GET", "/api/v1/clients?limit=8&q=" + enc(q));
          r.clients.forEach((c) => results.append(L.el("li", {}, L.el("span", {}, c.name),
            L.el("button", { type: "button", onclick: () => {
              $("buy-client-id").value = c.client_id; search.value = c.name;
              $("buy-client-chosen").textContent = _("For {name}", { name: c.name });
              results.replaceChildren();
            } }, _("Choose")))));
          if (!r.clients.length) results.append(L.el("li", { class: "muted" }, _("No client found.")));
        } catch (e) { error.textContent = e.message; }
      }, 250);
    });
    // The scale: read on demand into the lot's weight.
    function setupLot(box) {
      const input = box.querySelector(".lot-weight"), state = box.querySelector(".weigh-state");
      box.querySelector(".weigh-read").addEventListener("click", async () => {
        state.textContent = _("Reading the scale…");
        try {
          const r = await L.api("GET", "/api/v1/devices");
          const scales = r.devices.filter((d) => d.kind === "scale");
          const scale = scales.find((d) => d.register === register) || scales[0];
          if (!scale) { state.textContent = _("No scale is connected to this hub."); return; }
          if (scale.state !== "connected" || typeof scale.milligrams !== "number") {
            state.textContent = _("The scale is not ready: {state}", { state: L.term("device_state", scale.state) }); return;
          }
          input.value = typedGrams(scale.milligrams);
          state.textContent = scale.stable ? _("stable") : _("settling");
        } catch (e) { state.textContent = e.message; }
      });
    }
    lots.querySelectorAll("[data-lot]").forEach(setupLot);
    $("buy-add-lot").addEventListener("click", () => {
      const box = first.cloneNode(true);
      $("buy-add-lot").before(box); setupLot(box);
    });
    function lotsOf() {
      return [...lots.querySelectorAll("[data-lot]")].map((box) => ({
        box,
        lot: { description: box.querySelector(".lot-description").value.trim(),
               metal: box.querySelector(".lot-metal").value,
               fineness: Number(box.querySelector(".lot-fineness").value.trim()) || null,
               test: box.querySelector(".lot-test").value,
               weight_mg: milligrams(box.querySelector(".lot-weight").value) },
      }));
    }
    $("buy-quote").addEventListener("click", async () => {
      error.textContent = "";
      try {
        const q = await L.api("POST", "/api/v1/buyins/quote", { lots: lotsOf().map((x) => x.lot) });
        $("buy-computed").textContent = _("Computed price: {amount}", { amount: L.fmt(q.computed, q.currency) });
      } catch (e) { showError(error, e); }
    });
    // Photos go up first, under her key; the purchase names them.
    async function photosOf(box, client) {
      const out = [];
      for (const file of box.querySelector(".lot-photos").files) {
        const res = await fetch("/api/v1/buyins/photos?client_id=" + enc(client) + "&name=" + enc(file.name || "photo.jpg"), {
          method: "POST", body: file, credentials: "same-origin",
          headers: { "Accept": "application/json", "Content-Type": file.type || "application/octet-stream", "X-CSRF-Token": csrf() } });
        let answer = {}; try { answer = await res.json(); } catch (e) { answer = {}; }
        if (!res.ok) throw new Error(answer.detail || _("The photo could not be added; try again."));
        out.push(answer.hash);
      }
      return out;
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      const client = $("buy-client-id").value;
      const payout = $("buy-payout").value;
      const typed = $("buy-offered").value.trim();
      const offered = typed ? L.parseAmount(typed, cur) : null;
      if (typed && (offered === null || offered <= 0)) { error.textContent = _("Type an amount such as {example}", { example: L.fmt(123450, cur) }); return; }
      $("buy-submit").disabled = true;
      try {
        const rows = lotsOf();
        for (const row of rows) row.lot.photos = client ? await photosOf(row.box, client) : [];
        const body = { client_id: client, payout, lots: rows.map((r) => r.lot), register_id: $("buy-register").value };
        if (payout === "bank_transfer") body.reference = $("buy-reference").value.trim();
        if (offered !== null) body.offered = offered;
        const number = $("doc-number").value.trim();
        if (number) body.new_document = { type: $("doc-type").value, number, expiry: $("doc-expiry").value, country: $("doc-country").value.trim() };
        const done = await L.withApproval("POST", "/api/v1/buyins", body);
        if (done) location.href = "/buying/" + enc(done.buyin_id);
      } catch (e) { showError(error, e); }
      finally { $("buy-submit").disabled = false; }
    });
  }

  // -- a purchase: releases (a manager) -----------------------------------------------------------
  if (page === "buyin") {
    const id = root.dataset.buyin;
    document.querySelectorAll("form.release").forEach((form) => {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        $("buyin-error").textContent = "";
        const to = form.querySelector(".release-to").value;
        const body = { to };
        if (to === "stock") {
          body.category = form.querySelector(".release-category").value;
          const price = L.parseAmount(form.querySelector(".release-price").value, cur);
          if (price === null) { $("buyin-error").textContent = _("Type the tag price of the piece."); return; }
          body.tag_price = price;
        }
        try {
          await L.api("POST", "/api/v1/buyins/" + enc(id) + "/lots/" + form.dataset.pos + "/release", body);
          location.reload();
        } catch (e) { showError($("buyin-error"), e); }
      });
    });
  }

  // -- the register: encrypted or on paper --------------------------------------------------------
  if (page === "report") {
    const period = { from: root.dataset.from, to: root.dataset.to };
    $("report-export").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("report-error").textContent = "";
      const res = await fetch("/api/v1/buyins/report/export", {
        method: "POST", credentials: "same-origin",
        body: JSON.stringify({ ...period, passphrase: $("report-passphrase").value }),
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() } });
      if (!res.ok) { let a = {}; try { a = await res.json(); } catch (e) { a = {}; } $("report-error").textContent = a.detail || _("The hub did not answer as expected; try again."); return; }
      const url = URL.createObjectURL(await res.blob());
      const a = L.el("a", { href: url, download: "purchases.csv.age" }); document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      $("report-passphrase").value = "";
      L.toast(_("The encrypted file is downloaded."));
    });
    const print = $("report-print");
    if (print) print.addEventListener("click", async () => {
      try { await L.api("POST", "/api/v1/buyins/report/print", { ...period, register: root.dataset.register }); L.toast(_("Sent to the printer.")); }
      catch (e) { showError($("report-error"), e); }
    });
  }
})();
