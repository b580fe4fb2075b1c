/* Loupe staff UI: a thin layer over the JSON API. Text goes into the page with textContent
   only (never innerHTML), so a client's note or a piece's description cannot become markup. */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  class ApiError extends Error {
    constructor(status, body) { super(body.detail || body.error || ("HTTP " + status)); this.status = status; this.body = body; }
  }

  async function api(method, path, body) {
    const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRF-Token"] = csrf();
      opts.body = JSON.stringify(body || {});
    }
    const res = await fetch(path, opts);
    let data = {};
    try { data = await res.json(); } catch (e) { data = { error: "bad_response", detail: res.statusText }; }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  function toast(text, bad) {
    const t = $("toast"); if (!t) return;
    t.textContent = text; t.className = "toast" + (bad ? " bad" : ""); t.hidden = false;
    clearTimeout(toast.timer); toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  // Money: integers in minor units; string arithmetic only.
  const DIGITS = { JPY: 0, KRW: 0, CLP: 0, ISK: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3 };
  function digits(cur) { return cur in DIGITS ? DIGITS[cur] : 2; }
  function fmt(amount, cur) {
    if (amount === null || amount === undefined) return "—";
    const d = digits(cur), neg = amount < 0; let s = String(Math.abs(amount)).padStart(d + 1, "0");
    const whole = d ? s.slice(0, -d) : s, frac = d ? s.slice(-d) : "";
    return (neg ? "−" : "") + whole.replace(/\B(?=(\d{3})+(?!\d))/g, " ") + (d ? "." + frac : "") + " " + cur;
  }
  function parseAmount(text, cur) {
    const t = String(text).trim().replace(/\s/g, "").replace(",", ".");
    const m = /^(\d*)(?:\.(\d*))?$/.exec(t);
    const d = digits(cur);
    if (!m || (!m[1] && !m[2]) || (m[2] || "").length > d) return null;
    return parseInt((m[1] || "0") + (m[2] || "").padEnd(d, "0"), 10);
  }

  // -- sign in / out ----------------------------------------------------------------------
  function setupSignIn() {
    const form = $("signin-form"); if (!form) return;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("signin-error").textContent = "";
      try {
        await api("POST", "/api/v1/session", { staff_id: $("staff_id").value.trim(), pin: $("pin").value,
          register_id: $("register_id").value });
        const next = new URLSearchParams(location.search).get("next");
        location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/floor");
      } catch (e) { $("signin-error").textContent = e.message; $("pin").value = ""; $("pin").focus(); }
    });
  }
  document.addEventListener("click", async (ev) => {
    if (ev.target.closest('[data-action="sign-out"]')) {
      try { await api("DELETE", "/api/v1/session"); } catch (e) { /* already out */ }
      location.assign("/signin");
    }
  });

  // -- dialogs ------------------------------------------------------------------------------
  function ask(title, label) {
    return new Promise((resolve) => {
      const d = $("ask-dialog"); $("ask-title").textContent = title; $("ask-label").textContent = label;
      $("ask-input").value = "";
      const done = (v) => { d.close(); $("ask-form").onsubmit = null; $("ask-cancel").onclick = null; resolve(v); };
      $("ask-form").onsubmit = (ev) => { ev.preventDefault(); done($("ask-input").value); };
      $("ask-cancel").onclick = () => done(null);
      d.showModal(); $("ask-input").focus();
    });
  }

  function describe(action) {
    const bits = [action.kind.replace("_", " ")];
    const cur = pageCurrency();
    if (action.amount !== undefined) bits.push(fmt(action.amount, cur));
    if (action.base !== undefined) bits.push("on " + fmt(action.base, cur));
    if (action.item_id) bits.push("piece " + action.item_id);
    if (action.sale_id) bits.push("sale " + action.sale_id);
    if (Array.isArray(action.lines)) {
      bits.push((action.lines.length > 1 ? "lines " : "line ") + action.lines.map((l) =>
        l.line_no + (l.quantity > 1 ? " ×" + l.quantity : "")).join(", "));
    }
    if (action.reason) bits.push("— " + action.reason);
    return bits.join(" ");
  }

  // A manager types their id and PIN here; the approval is bound to exactly this action.
  function approve(action) {
    return new Promise((resolve) => {
      const d = $("approval-dialog");
      $("approval-what").textContent = describe(action);
      $("approval-error").textContent = ""; $("approval-manager").value = ""; $("approval-pin").value = "";
      const done = (v) => { d.close(); $("approval-form").onsubmit = null; resolve(v); };
      $("approval-cancel").onclick = () => done(null);
      $("approval-form").onsubmit = async (ev) => {
        ev.preventDefault();
        try {
          const a = await api("POST", "/api/v1/approvals", { action, manager_id: $("approval-manager").value.trim(),
            pin: $("approval-pin").value });
          done(a.approval_id);
        } catch (e) { $("approval-error").textContent = e.message; $("approval-pin").value = ""; }
      };
      d.showModal(); $("approval-manager").focus();
    });
  }

  async function withApproval(method, path, body) {
    try { return await api(method, path, body); } catch (e) {
      if (!(e instanceof ApiError) || e.body.error !== "approval_needed") throw e;
      const approvalId = await approve(e.body.action);
      if (!approvalId) throw new Error("not approved");
      return await api(method, path, Object.assign({}, body, { approval_id: approvalId }));
    }
  }

  // The currency of the screen's amounts: the sales floor and a sale page both carry it.
  function pageCurrency() { const f = document.querySelector("[data-currency]"); return f ? f.dataset.currency : ""; }

  // -- the sales floor ------------------------------------------------------------------------

  function setupFloor() {
    const floor = $("floor"); if (!floor) return;
    const cur = floor.dataset.currency;
    let register = floor.dataset.register;
    const cartPath = () => "/api/v1/registers/" + encodeURIComponent(register) + "/cart";
    let lastVersion = -1;

    function render(cart) {
      if (cart.register_id !== register) return;
      lastVersion = cart.version;
      $("cart-register").textContent = "· " + register;
      const lines = $("cart-lines"); lines.replaceChildren();
      cart.lines.forEach((l) => {
        const desc = el("span", { class: "desc" }, l.description, el("small", {}, l.item_id || l.sku));
        const price = el("span", { class: "num" }, fmt(l.total, cur));
        const edit = el("button", { type: "button", class: "quiet", "aria-label": "Change price of line " + l.line_no,
          onclick: () => changePrice(l) }, "Price");
        const rm = el("button", { type: "button", class: "quiet", "aria-label": "Remove line " + l.line_no,
          onclick: () => change("DELETE", cartPath() + "/lines/" + l.line_no) }, "Remove");
        lines.append(el("li", { "data-item": l.item_id || l.sku }, desc, price, edit, rm));
      });
      if (!cart.lines.length) lines.append(el("li", { class: "muted" }, "Scan a piece to begin."));
      $("cart-subtotal").textContent = fmt(cart.subtotal, cur);
      $("cart-discount").textContent = cart.discount ? fmt(-cart.discount, cur) : "—";
      $("cart-tax").textContent = fmt(cart.tax, cur);
      $("cart-total").textContent = fmt(cart.total, cur);
      $("cart-paid").textContent = fmt(cart.paid, cur);
      $("cart-due").textContent = fmt(cart.due, cur);
      const tenders = $("cart-tenders"); tenders.replaceChildren();
      cart.tenders.forEach((t, i) => {
        const label = t.type.replace("_", " ") + (t.detail && t.detail.last4 ? " ···· " + t.detail.last4 : "");
        tenders.append(el("li", {}, el("span", {}, label), el("span", { class: "num" }, fmt(t.amount, cur)),
          el("button", { type: "button", class: "quiet", onclick: () => change("DELETE", cartPath() + "/tenders/" + (i + 1)) }, "Remove")));
      });
      $("tender-amount").placeholder = cart.due ? fmt(cart.due, cur) : "";
      const problem = $("cart-problem"); problem.hidden = !cart.problem; problem.textContent = cart.problem || "";
      showClient(cart.client_id);
      $("complete-button").disabled = !cart.lines.length || cart.due > 0 || !!cart.problem;
    }

    let shownClient = null;
    async function showClient(clientId) {
      if (clientId === shownClient) return;
      shownClient = clientId;
      const box = $("cart-client"); box.replaceChildren();
      if (!clientId) { box.textContent = "No client attached"; return; }
      try {
        const c = await api("GET", "/api/v1/clients/" + encodeURIComponent(clientId));
        const p = c.profile || {};
        box.append(el("a", { href: "/clients/" + encodeURIComponent(clientId) }, [p.first_name, p.last_name].filter(Boolean).join(" ") || clientId),
          " ", el("button", { type: "button", class: "quiet", onclick: () => change("PUT", cartPath() + "/client", { client_id: null }) }, "Detach"));
      } catch (e) { box.textContent = clientId; }
    }

    async function change(method, path, body, approvable) {
      try {
        const cart = await (approvable ? withApproval(method, path, body) : api(method, path, body));
        render(cart); return cart;
      } catch (e) { toast(e.message, true); return null; }
    }

    async function load() { try { render(await api("GET", cartPath())); } catch (e) { toast(e.message, true); } }

    async function changePrice(line) {
      const v = await ask("Price of " + (line.item_id || line.sku), "New unit price (" + cur + ")");
      if (v === null) return;
      const amount = parseAmount(v, cur);
      if (amount === null) { toast("Not an amount", true); return; }
      await change("PUT", cartPath() + "/lines/" + line.line_no + "/price", { unit_price: amount }, true);
    }

    $("register-select").addEventListener("change", (ev) => {
      register = ev.target.value; history.replaceState(null, "", "/floor?register=" + encodeURIComponent(register)); load();
    });
    $("scan-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const code = $("scan-input").value.trim(); if (!code) return;
      if (await change("POST", cartPath() + "/lines", { code })) $("scan-input").value = "";
      $("scan-input").focus();
    });
    $("search-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const out = $("search-results"); out.replaceChildren();
      try {
        const r = await api("GET", "/api/v1/items?status=in_stock&limit=20&q=" + encodeURIComponent($("search-input").value.trim()));
        r.items.forEach((i) => out.append(el("li", {},
          el("a", { href: "/items/" + encodeURIComponent(i.item_id) }, i.description),
          el("span", { class: "num" }, fmt(i.tag_price, cur)),
          el("button", { type: "button", onclick: () => change("POST", cartPath() + "/lines", { item_id: i.item_id }) }, "Add"))));
        if (!r.items.length) out.append(el("li", { class: "muted" }, "Nothing in stock matches."));
      } catch (e) { toast(e.message, true); }
    });
    $("client-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const out = $("client-results"); out.replaceChildren();
      try {
        const r = await api("GET", "/api/v1/clients?q=" + encodeURIComponent($("client-input").value.trim()));
        r.clients.forEach((c) => out.append(el("li", {}, el("span", {}, c.name),
          el("button", { type: "button", onclick: async () => {
            if (await change("PUT", cartPath() + "/client", { client_id: c.client_id })) { out.replaceChildren(); $("client-input").value = ""; }
          } }, "Attach"))));
        if (!r.clients.length) out.append(el("li", { class: "muted" }, "No client found."));
      } catch (e) { toast(e.message, true); }
    });
    $("tender-type").addEventListener("change", () => {
      document.querySelectorAll(".card-only").forEach((n) => { n.hidden = $("tender-type").value !== "card"; });
    });
    $("tender-type").dispatchEvent(new Event("change"));
    $("tender-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const amount = parseAmount($("tender-amount").value, cur);
      if (amount === null || amount <= 0) { toast("Type an amount, e.g. 1200.00", true); return; }
      const tender = { type: $("tender-type").value, amount };
      if (tender.type === "card") tender.last4 = $("tender-last4").value.trim();
      if (await change("POST", cartPath() + "/tenders", tender)) { $("tender-amount").value = ""; $("tender-last4").value = ""; }
    });
    $("discount-button").addEventListener("click", async () => {
      const v = await ask("Discount", "Amount off the basket (" + cur + ")");
      if (v === null) return;
      const amount = parseAmount(v, cur);
      if (amount === null) { toast("Not an amount", true); return; }
      await change("PUT", cartPath() + "/discount", { amount }, true);
    });
    $("clear-button").addEventListener("click", () => change("DELETE", cartPath()));
    $("nosale-button").addEventListener("click", async () => {
      const reason = await ask("Open the drawer", "Reason");
      if (!reason) return;
      try {
        const r = await withApproval("POST", "/api/v1/registers/" + encodeURIComponent(register) + "/no-sale", { reason });
        toast(r.drawer_opened ? "Drawer opened" : "No-sale recorded (no drawer connected)");
      } catch (e) { toast(e.message, true); }
    });
    $("complete-button").addEventListener("click", async () => {
      $("complete-button").disabled = true;
      try {
        const r = await api("POST", cartPath() + "/complete", {});
        showReceipt(r.receipt, r.sale);
        load();
      } catch (e) { toast(e.message, true); $("complete-button").disabled = false; }
    });
    $("new-sale-button").addEventListener("click", () => { $("receipt-pane").hidden = true; $("scan-input").focus(); });

    function showReceipt(receipt, sale) {
      const box = $("receipt"); box.replaceChildren();
      receipt.blocks.forEach((b) => {
        if (b.kind === "rule") { box.append(el("hr", { class: "r-rule" })); return; }
        if (b.kind === "blank") { box.append(el("div", { class: "r-blank" })); return; }
        const cls = "r-" + b.kind + (b.bold ? " r-bold" : "") + (b.center ? " r-center" : "");
        const row = el("div", { class: cls }, el("span", {}, b.text));
        if (b.right) row.append(el("span", { class: "r-right" }, b.right));
        box.append(row);
      });
      $("receipt-link").href = "/sales/" + encodeURIComponent(sale.sale_id);
      $("receipt-pane").hidden = false;
      $("receipt-pane").scrollIntoView({ behavior: "smooth" });
    }

    // Live: the scanner and the other screens on this register change the same cart.
    function connect() {
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/events");
      ws.onmessage = (m) => {
        const ev = JSON.parse(m.data);
        if (ev.topic === "cart.changed" && ev.data.register_id === register) {
          if (ev.data.cart.version > lastVersion) render(ev.data.cart);
        } else if (ev.topic === "cart.scan_refused" && ev.data.register_id === register) {
          toast(ev.data.detail, true);
        }
      };
      ws.onclose = (ev) => { if (ev.code !== 1008) setTimeout(connect, 2000); };
    }
    connect();
    load();
  }

  // -- the client book: new client and edit ---------------------------------------------------
  function setupClientForm() {
    const form = $("client-edit-form"); if (!form) return;
    const clientId = form.dataset.clientId;
    const lines = (id) => $(id).value.split("\n").map((s) => s.trim()).filter(Boolean);
    const text = (id) => $(id).value.trim();

    $("add-size").addEventListener("click", () => {
      const rows = $("ring-sizes"), row = rows.lastElementChild.cloneNode(true);
      row.querySelectorAll("input").forEach((i) => { i.value = ""; i.removeAttribute("aria-invalid"); });
      rows.append(row); row.querySelector("input").focus();
    });

    function clearErrors() {
      form.querySelectorAll("[data-error-for]").forEach((n) => { n.textContent = ""; });
      form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
    }

    // The API names the field it refuses (emails[1], dates.birthday, ring_sizes.left ring...):
    // the message goes next to the closest field on the form, or on top when none matches.
    function showError(e) {
      const field = (e.body && e.body.field) || "";
      let slot = $("form-error"), best = 0;
      form.querySelectorAll("[data-error-for]").forEach((n) => {
        const name = n.dataset.errorFor;
        if (name && name.length > best && (field === name || field.startsWith(name + ".") || field.startsWith(name + "["))) {
          slot = n; best = name.length;
        }
      });
      slot.textContent = e.message;
      const inputs = slot.id ? form.querySelectorAll('[aria-describedby="' + slot.id + '"]') : [];
      inputs.forEach((i) => i.setAttribute("aria-invalid", "true"));
      if (inputs.length) inputs[0].focus(); else slot.scrollIntoView({ block: "center" });
    }

    function collect(original) {
      const o = original || {};
      const sizes = {};
      for (const row of form.querySelectorAll(".size-row")) {
        const finger = row.querySelector(".size-finger").value.trim(), size = row.querySelector(".size-value").value.trim();
        if (size && !finger) throw new ApiError(400, { error: "invalid", field: "ring_sizes", detail: "ring_sizes: say which finger size " + size + " is for" });
        if (finger && size) sizes[finger] = size;
      }
      const address = {};
      const firstAddress = (o.addresses || [])[0] || {};
      if (firstAddress.label) address.label = firstAddress.label;
      ["line1", "line2", "postcode", "city", "region", "country"].forEach((k) => { if (text("f-" + k)) address[k] = text("f-" + k); });
      const others = (o.addresses || []).slice(1);  // the form edits the first address only
      const addresses = Object.keys(address).some((k) => k !== "label") ? [address, ...others] : others;
      const dates = Object.assign({}, o.dates || {});
      ["birthday", "anniversary"].forEach((k) => { if (text("f-" + k)) dates[k] = text("f-" + k); else delete dates[k]; });
      const preferences = Object.assign({}, o.preferences || {});
      const designers = lines("f-designers");
      if (designers.length) preferences.designers = designers; else delete preferences.designers;
      const consent = Object.assign({}, o.consent || {}, { marketing: $("f-marketing").checked });
      return { title: text("f-title"), first_name: text("f-first_name"), last_name: text("f-last_name"),
        emails: lines("f-emails"), phones: lines("f-phones"), addresses, ring_sizes: sizes, dates, preferences,
        notes: $("f-notes").value.trim(), consent };
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors();
      $("client-save").disabled = true;
      try {
        let client;
        if (clientId) {
          // The form shows part of the profile: what it does not show is kept as it is now.
          const current = await api("GET", "/api/v1/clients/" + encodeURIComponent(clientId));
          client = await api("PATCH", "/api/v1/clients/" + encodeURIComponent(clientId), collect(current.profile));
        } else {
          client = await api("POST", "/api/v1/clients", collect(null));
        }
        location.assign("/clients/" + encodeURIComponent(client.client_id));
      } catch (e) { showError(e); $("client-save").disabled = false; }
    });
  }

  // -- a sale: return lines, or void it (manager approval, as on the floor) --------------------
  function setupSale() {
    const box = $("sale-actions"); if (!box) return;
    const saleId = box.dataset.saleId, cur = box.dataset.currency;
    const path = (what) => "/api/v1/sales/" + encodeURIComponent(saleId) + "/" + what;

    async function run(what, body, errorBox) {
      const buttons = box.querySelectorAll("button[type=submit]");
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await withApproval("POST", path(what), Object.assign({ register_id: $("sale-register").value }, body));
        location.reload();  // the page shows the new status and the return document
      } catch (e) {
        errorBox.textContent = e.message;
        buttons.forEach((b) => { b.disabled = false; });
      }
    }

    const rf = $("return-form");
    if (rf) {
      const picks = () => Array.from(rf.querySelectorAll(".return-line:checked"), (cb) => {
        const q = rf.querySelector('.return-qty[data-line="' + cb.value + '"]');
        return { line_no: parseInt(cb.value, 10), quantity: q ? Number(q.value) : 1,
          total: Number(cb.dataset.total), of: Number(cb.dataset.quantity) };
      });
      const refund = (ps) => ps.reduce((sum, p) => sum + Math.floor((2 * p.total * p.quantity + p.of) / (2 * p.of)), 0);
      const valid = (ps) => ps.every((p) => Number.isInteger(p.quantity) && p.quantity >= 1);
      const update = () => {
        const ps = picks();
        $("return-refund").textContent = ps.length && valid(ps) ? fmt(refund(ps), cur) : "—";
      };
      rf.addEventListener("change", update);
      rf.addEventListener("input", update);
      update();
      rf.addEventListener("submit", (ev) => {
        ev.preventDefault();
        $("return-error").textContent = "";
        const ps = picks();
        if (!ps.length) { $("return-error").textContent = "Pick the lines that come back."; return; }
        if (!valid(ps)) { $("return-error").textContent = "Type how many pieces come back."; return; }
        run("return", { lines: ps.map((p) => ({ line_no: p.line_no, quantity: p.quantity })),
          reason: $("return-reason").value }, $("return-error"));
      });
    }
    const vf = $("void-form");
    if (vf) {
      vf.addEventListener("submit", (ev) => {
        ev.preventDefault();
        $("void-error").textContent = "";
        run("void", { reason: $("void-reason").value }, $("void-error"));
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => { setupSignIn(); setupFloor(); setupClientForm(); setupSale(); });
  window.loupe = { api, fmt, parseAmount };
})();
