/* Loupe staff UI: a thin layer over the JSON API. Text goes into the page with textContent
   only (never innerHTML), so a client's note or a piece's description cannot become markup.
   Numbers and words come from the store's bundle (#loupe-words, made by hub.words on the
   server): amounts are written and read exactly as the server writes and reads them. */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const W = (() => { try { return JSON.parse($("loupe-words").textContent); } catch (e) { return {}; } })();
  const NUM = W.number || { decimal: ".", group: ",", minus: "-", grouping: [3, 3] };

  // A message in the store's language; {name} placeholders filled from `params`.
  function _(message, params) {
    const text = (W.messages && W.messages[message]) || message;
    return params ? text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m)) : text;
  }
  // A machine value (status, tender type, action...) in words; never a code on screen.
  function term(vocabulary, value) {
    if (value === null || value === undefined || value === "") return "";
    const words = (W.terms && W.terms[vocabulary]) || {};
    return words[value] || String(value).replace(/_/g, " ");
  }

  class HubError extends Error {
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
    try { data = await res.json(); } catch (e) { data = { error: "bad_response", detail: _("The hub did not answer as expected; try again.") }; }
    if (!res.ok) throw new HubError(res.status, data);
    return data;
  }

  function toast(text, bad) {
    const box = $("toast"); if (!box) return;
    box.textContent = text; box.className = "toast" + (bad ? " bad" : ""); box.hidden = false;
    clearTimeout(toast.timer); toast.timer = setTimeout(() => { box.hidden = true; }, bad ? 6000 : 3000);
  }
  // A valid action clears an error still showing from the one before.
  function clearToast() { const box = $("toast"); if (box && box.classList.contains("bad")) { box.hidden = true; } }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  // -- money: integers in minor units, written and read with string arithmetic only ----------
  const SPACES = "\u00a0\u202f\u2009 ";
  function currency(cur) {
    return (W.currencies && W.currencies[cur]) ||
      { digits: 2, symbol: cur, pos_prefix: "", pos_suffix: " " + cur, neg_prefix: "-", neg_suffix: " " + cur };
  }
  // `scaled` / 10**digits, grouped the store's way (hub.words.Words.decimal).
  function decimal(scaled, digits) {
    const text = String(Math.abs(scaled)).padStart(digits + 1, "0");
    let whole = digits ? text.slice(0, -digits) : text;
    const frac = digits ? text.slice(-digits) : "";
    const groups = []; let size = NUM.grouping[0];
    while (whole.length > size) { groups.unshift(whole.slice(-size)); whole = whole.slice(0, -size); size = NUM.grouping[1]; }
    let body = [whole, ...groups].join(NUM.group);
    if (digits) body += NUM.decimal + frac;
    return scaled < 0 ? NUM.minus + body : body;
  }
  function fmt(amount, cur) {
    if (amount === null || amount === undefined) return "—";
    const c = currency(cur), number = decimal(Math.abs(amount), c.digits);
    return amount < 0 ? c.neg_prefix + number + c.neg_suffix : c.pos_prefix + number + c.pos_suffix;
  }
  const isDigits = (s) => /^[0-9]+$/.test(s);
  function parseGrouped(raw, digits) {
    const neg = raw[0] === "-" || raw[0] === "\u2212";
    if (neg) raw = raw.slice(1).replace(new RegExp("^[" + SPACES + "]+"), "");
    let whole = raw, frac = "", sep = false;
    const at = raw.lastIndexOf(NUM.decimal);
    if (at >= 0) {
      sep = true; whole = raw.slice(0, at); frac = raw.slice(at + NUM.decimal.length);
      if (!isDigits(frac) || frac.length > digits) return null;
    }
    const spaces = SPACES.includes(NUM.group);
    let pieces = spaces ? whole.split(new RegExp("[" + SPACES + "]")) : whole.split(NUM.group);
    if (sep && whole === "") pieces = ["0"];
    if (!pieces.every(isDigits)) return null;
    if (pieces.length > 1) {
      const [primary, secondary] = NUM.grouping;
      const first = pieces[0].length, limit = pieces.length > 2 ? secondary : primary;
      if (first < 1 || first > limit || pieces[pieces.length - 1].length !== primary ||
          pieces.slice(1, -1).some((p) => p.length !== secondary)) return null;
    }
    const value = BigInt(pieces.join("")) * 10n ** BigInt(digits) + BigInt((frac.padEnd(digits, "0")) || "0");
    return neg ? -value : value;
  }
  function parsePlain(raw, digits) {
    let s = raw.trim().replace(/[,_]/g, "");
    const neg = s.startsWith("-"); if (neg) s = s.slice(1);
    const dot = s.indexOf("."); const whole = dot >= 0 ? s.slice(0, dot) : s, frac = dot >= 0 ? s.slice(dot + 1) : "";
    if (!whole && !frac) return null;
    if (!isDigits(whole || "0") || (frac && !isDigits(frac)) || frac.length > digits) return null;
    const value = BigInt(whole || "0") * 10n ** BigInt(digits) + BigInt(frac.padEnd(digits, "0") || "0");
    return neg ? -value : value;
  }
  // What a person types in an amount field (the store's way, or plain 1234.50) -> minor units.
  function parseAmount(text, cur) {
    const c = currency(cur);
    let raw = String(text).normalize("NFC").trim();
    for (const mark of [c.symbol, cur].filter(Boolean).sort((a, b) => b.length - a.length)) raw = raw.split(mark).join("");
    raw = raw.replace(new RegExp("^[" + SPACES + "\u200f\u200e\\s]+|[" + SPACES + "\u200f\u200e\\s]+$", "g"), "");
    if (!raw) return null;
    const v = parseGrouped(raw, c.digits) ?? parsePlain(raw.replace(/\u2212/g, "-"), c.digits);
    return v === null ? null : Number(v);
  }
  // A discount typed as "10 %" (basis points for the server) or as an amount.
  function parseDiscount(text, cur) {
    const s = String(text).trim();
    if (s.endsWith("%")) {
      const n = s.slice(0, -1).trim();
      const v = parseGrouped(n, 2) ?? parsePlain(n, 2);
      return v === null || v < 0n || v > 10000n ? null : { percent_bp: Number(v) };
    }
    const amount = parseAmount(s, cur);
    return amount === null || amount < 0 ? null : { amount };
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
        location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
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
  // Ask for a value; `check(value)` returns an error sentence to show, or null to accept.
  function ask(title, label, check) {
    return new Promise((resolve) => {
      const d = $("ask-dialog"); $("ask-title").textContent = title; $("ask-label").textContent = label;
      $("ask-input").value = ""; $("ask-error").textContent = "";
      const done = (v) => { d.close(); $("ask-form").onsubmit = null; $("ask-cancel").onclick = null; resolve(v); };
      $("ask-form").onsubmit = (ev) => {
        ev.preventDefault();
        const problem = check ? check($("ask-input").value) : null;
        if (problem) { $("ask-error").textContent = problem; $("ask-input").focus(); return; }
        done($("ask-input").value);
      };
      $("ask-cancel").onclick = () => done(null);
      d.showModal(); $("ask-input").focus();
    });
  }

  function confirmAction(title, text, ok) {
    return new Promise((resolve) => {
      const d = $("confirm-dialog");
      $("confirm-title").textContent = title; $("confirm-text").textContent = text; $("confirm-ok").textContent = ok;
      const done = (v) => { d.close(); $("confirm-form").onsubmit = null; $("confirm-cancel").onclick = null; resolve(v); };
      $("confirm-form").onsubmit = (ev) => { ev.preventDefault(); done(true); };
      $("confirm-cancel").onclick = () => done(false);
      d.showModal(); $("confirm-ok").focus();
    });
  }

  // What a manager is asked to approve, in words.
  function describe(action) {
    const cur = pageCurrency();
    const bits = [term("action", action.kind)];
    if (action.amount !== undefined) bits.push(fmt(action.amount, cur));
    if (action.base !== undefined) bits.push(_("on {amount}", { amount: fmt(action.base, cur) }));
    if (action.item_id) bits.push(_("piece {item_id}", { item_id: action.item_id }));
    if (action.sale_id) bits.push(_("sale {sale_id}", { sale_id: action.sale_id }));
    if (action.job_id) bits.push(_("for {job_id}", { job_id: action.job_id }));
    if (Array.isArray(action.lines)) {
      bits.push(_("lines {lines}", { lines: action.lines.map((l) => l.line_no + (l.quantity > 1 ? " ×" + l.quantity : "")).join(", ") }));
    }
    if (action.reason) bits.push("— " + action.reason);
    const text = bits.join(" ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // A manager types their id and PIN here; the approval is bound to exactly this action.
  function approve(action, why) {
    return new Promise((resolve) => {
      const d = $("approval-dialog");
      $("approval-what").textContent = describe(action) + (why ? " · " + why : "");
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
      if (!(e instanceof HubError) || e.body.error !== "approval_needed") throw e;
      const approvalId = await approve(e.body.action, e.message);
      if (!approvalId) throw new Error(_("Not approved: nothing was changed."));
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
    let lastVersion = -1, cart = null;
    const cartWatchers = [], tenderLabels = {};

    function render(c) {
      if (c.register_id !== register) return;
      cart = c; lastVersion = c.version;
      $("cart-register").textContent = "· " + register;
      const lines = $("cart-lines"); lines.replaceChildren();
      c.lines.forEach((l) => {
        const desc = el("span", { class: "desc" }, l.description, el("small", {}, l.item_id || l.sku));
        // How the line is priced: the rate it used (stale: a manager approves), its quote, HQ's promotions.
        if (l.rate) desc.append(el("small", { class: "line-rate" }, _("{metal} {fineness}‰ at {per_gram} a gram", { metal: term("metal", l.rate.metal), fineness: l.rate.fineness, per_gram: fmt(l.rate.per_gram, cur) })));
        if (l.stale) desc.append(el("small", { class: "warn" }, _("This rate is past its validity: a manager approves the sale.")));
        if (l.quote_id) desc.append(el("small", {}, _("Quoted price ({quote})", { quote: l.quote_id })));
        (l.promotions || []).forEach((p) => desc.append(el("small", { class: "line-promotion" }, p.name + " " + fmt(-p.amount, cur))));
        const price = el("span", { class: "num" }, fmt(l.total, cur));
        const edit = el("button", { type: "button", class: "quiet", "aria-label": _("Change the price of line {n}", { n: l.line_no }),
          onclick: () => changePrice(l) }, _("Price"));
        const rm = el("button", { type: "button", class: "quiet", "aria-label": _("Remove line {n}", { n: l.line_no }),
          onclick: () => change("DELETE", cartPath() + "/lines/" + l.line_no) }, _("Remove"));
        lines.append(el("li", { "data-item": l.item_id || l.sku }, desc, price, edit, rm));
      });
      if (!c.lines.length) lines.append(el("li", { class: "muted" }, _("Scan a piece to begin.")));
      $("cart-subtotal").textContent = fmt(c.subtotal, cur);
      $("cart-discount").textContent = c.discount ? fmt(-c.discount, cur) : "—";
      const pending = $("cart-discount-pending");
      pending.hidden = !c.discount_pending;
      pending.textContent = c.discount_pending ? _("The basket changed after the discount was approved: a manager approves it again when the sale completes, or remove it.") : "";
      $("cart-tax").textContent = fmt(c.tax, cur);
      $("cart-total").textContent = fmt(c.total, cur);
      $("cart-paid").textContent = fmt(c.paid, cur);
      $("cart-due").textContent = fmt(c.due, cur);
      $("cart-change").hidden = $("cart-change-label").hidden = !c.change;
      $("cart-change").textContent = fmt(c.change, cur);
      const tenders = $("cart-tenders"); tenders.replaceChildren();
      c.tenders.forEach((tender, i) => {
        const own = tenderLabels[tender.type];
        const label = own ? own(tender) : term("tender", tender.type) + (tender.detail && tender.detail.last4 ? " ···· " + tender.detail.last4 : "");
        tenders.append(el("li", {}, el("span", {}, label), el("span", { class: "num" }, fmt(tender.amount, cur)),
          el("button", { type: "button", class: "quiet", onclick: () => change("DELETE", cartPath() + "/tenders/" + (i + 1)) }, _("Remove"))));
      });
      $("tender-amount").placeholder = c.due ? fmt(c.due, cur) : "";
      const problem = $("cart-problem"); problem.hidden = !c.problem; problem.textContent = c.problem ? c.problem.detail : "";
      showClient(c.client_id);
      $("complete-button").disabled = !c.lines.length || c.due > 0 || !!c.problem;
      cartWatchers.forEach((fn) => { try { fn(c); } catch (e) { console.error(e); } });
    }

    let shownClient = null;
    async function showClient(clientId) {
      if (clientId === shownClient) return;
      shownClient = clientId;
      const box = $("cart-client"); box.replaceChildren();
      if (!clientId) { box.textContent = _("No client attached"); return; }
      try {
        const c = await api("GET", "/api/v1/clients/" + encodeURIComponent(clientId));
        const p = c.profile || {};
        box.append(el("a", { href: "/clients/" + encodeURIComponent(clientId) }, [p.first_name, p.last_name].filter(Boolean).join(" ") || clientId),
          " ", el("button", { type: "button", class: "quiet", onclick: () => change("PUT", cartPath() + "/client", { client_id: null }) }, _("Detach")));
        box.append(clientHeadline(await api("GET", "/api/v1/clients/" + encodeURIComponent(clientId) + "/summary")));
      } catch (e) { if (!box.childNodes.length) box.textContent = clientId; }
    }

    // Her headline at the counter: tier, what she has spent, her sizes, her next date, her
    // points (what the client page's headline says, from the summary API).
    const DATE_WORDS = { birthday: _("Birthday"), anniversary: _("Anniversary"), engagement: _("Engagement"),
      wedding: _("Wedding"), other: _("A date to remember") };
    function clientHeadline(s) {
      const facts = [];
      if (s.tier && s.tier.tier) facts.push(term("client_tier", s.tier.tier));
      facts.push(_("Lifetime {amount}").replace("{amount}", fmt(s.lifetime, s.currency)));
      const sizes = Object.entries(s.ring_sizes || {}).map(([finger, size]) => finger + " " + size);
      if (sizes.length) facts.push(_("Ring {sizes}").replace("{sizes}", sizes.join(", ")));
      const m = s.next_milestone;
      if (m && m.days <= 60) {
        facts.push((DATE_WORDS[m.kind] || m.kind) + " · " + (m.days === 0 ? _("today")
          : m.days === 1 ? _("tomorrow") : _("in {days} days").replace("{days}", String(m.days))));
      }
      if (s.loyalty && s.loyalty.points) facts.push(_("{points} points").replace("{points}", decimal(s.loyalty.points, 0)));
      return el("div", { class: "cart-headline", id: "cart-client-headline" }, facts.join(" · "));
    }

    async function change(method, path, body, approvable) {
      try {
        const c = await (approvable ? withApproval(method, path, body) : api(method, path, body));
        render(c); clearToast(); return c;
      } catch (e) {
        if (e instanceof HubError && e.body.error === "held" && body && !body.confirm_held) {
          return (await sellHeld(e.message)) ? change(method, path, Object.assign({}, body, { confirm_held: true }), approvable) : null;
        }
        toast(e.message, true); return null;
      }
    }
    // A piece on a tray for an appointment: say where it is, and sell it only if asked to.
    const sellHeld = (where) => confirmAction(_("This piece is held"), where, _("Sell it anyway"));

    async function load() { try { render(await api("GET", cartPath())); } catch (e) { toast(e.message, true); } }

    const amountProblem = (v) => (parseAmount(v, cur) === null ? _("Type an amount such as {example}", { example: fmt(123450, cur) }) : null);

    async function changePrice(line) {
      const v = await ask(_("Price of {what}", { what: line.item_id || line.sku }), _("New unit price"), amountProblem);
      if (v === null) return;
      await change("PUT", cartPath() + "/lines/" + line.line_no + "/price", { unit_price: parseAmount(v, cur) }, true);
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
          el("button", { type: "button", onclick: () => change("POST", cartPath() + "/lines", { item_id: i.item_id }) }, _("Add")))));
        if (!r.items.length) out.append(el("li", { class: "muted" }, _("Nothing in stock matches.")));
        clearToast();
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
          } }, _("Attach")))));
        if (!r.clients.length) out.append(el("li", { class: "muted" }, _("No client found.")));
        clearToast();
      } catch (e) { toast(e.message, true); }
    });
    $("tender-type").addEventListener("change", () => {
      document.querySelectorAll(".card-only").forEach((n) => { n.hidden = $("tender-type").value !== "card"; });
    });
    $("tender-type").dispatchEvent(new Event("change"));
    $("tender-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const typed = $("tender-amount").value.trim();
      // Take with an empty amount takes what is due.
      const amount = typed === "" ? (cart ? cart.due : 0) : parseAmount(typed, cur);
      if (amount === null) { toast(_("Type an amount such as {example}", { example: fmt(123450, cur) }), true); return; }
      if (amount <= 0) { toast(_("Nothing is due: the sale is paid."), true); return; }
      const tender = { type: $("tender-type").value, amount };
      if (tender.type === "card") tender.last4 = $("tender-last4").value.trim();
      // Approvable: a card typed by hand at a register with a terminal asks a manager.
      if (await change("POST", cartPath() + "/tenders", tender, true)) { $("tender-amount").value = ""; $("tender-last4").value = ""; }
    });
    $("discount-button").addEventListener("click", async () => {
      const v = await ask(_("Discount"), _("Amount off the basket, or a percentage such as 10 %"),
        (x) => (x.trim() && parseDiscount(x, cur) === null ? _("Type an amount such as {example}, or a percentage such as 10 %", { example: fmt(5000, cur) }) : null));
      if (v === null) return;
      await change("PUT", cartPath() + "/discount", v.trim() ? parseDiscount(v, cur) : { amount: 0 }, true);
    });
    $("clear-button").addEventListener("click", async () => {
      if (cart && !cart.lines.length && !cart.tenders.length) return;
      if (await confirmAction(_("Clear the cart?"), _("Every line, tender and discount of this cart goes."), _("Clear the cart"))) {
        change("DELETE", cartPath());
      }
    });
    $("nosale-button").addEventListener("click", async () => {
      const reason = await ask(_("Open the drawer"), _("Reason"), (x) => (x.trim() ? null : _("Say why the drawer opens.")));
      if (!reason) return;
      try {
        await withApproval("POST", "/api/v1/registers/" + encodeURIComponent(register) + "/no-sale", { reason });
        toast(_("No-sale recorded"));  // the drawer's own answer follows as device.drawer_kick
      } catch (e) { toast(e.message, true); }
    });
    $("complete-button").addEventListener("click", async () => {
      $("complete-button").disabled = true;
      try {
        const r = await withApproval("POST", cartPath() + "/complete", {});
        showReceipt(r.receipt, r.sale);
        clearToast();
        load();
      } catch (e) { toast(e.message, true); $("complete-button").disabled = false; }
    });
    $("new-sale-button").addEventListener("click", () => { $("receipt-pane").hidden = true; $("scan-input").focus(); });
    // The floor as the layers' panels see it (a gift card sold, a foreign tender, the card
    // terminal): they change the cart through the same calls and hear every render.
    const floorApi = {
      register: () => register, cartPath, cart: () => cart, currency: cur, change, ask, confirmAction,
      reload: load, showReceipt,
      onCart: (fn) => { cartWatchers.push(fn); if (cart) fn(cart); },
      tenderLabel: (type, fn) => { tenderLabels[type] = fn; },
    };
    floorHooks.splice(0).forEach((fn) => fn(floorApi));
    floorHooks.push = (fn) => { fn(floorApi); return 0; };

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
          if (ev.data.error === "held") {  // scanned from a tray: the same question as typed
            sellHeld(ev.data.detail).then((yes) => yes && change("POST", cartPath() + "/lines", { code: ev.data.code, confirm_held: true }));
          } else toast(ev.data.detail, true);
        } else if (ev.topic === "device.drawer_kick" && ev.data.register === register) {
          if (ev.data.opened) toast(_("Drawer opened"));
          else toast(ev.data.problem || _("The drawer did not open"), true);
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
    const checked = (name) => [...form.querySelectorAll('input[name="' + name + '"]:checked')].map((i) => i.value);

    $("add-size").addEventListener("click", () => {
      const rows = $("ring-sizes"), row = rows.lastElementChild.cloneNode(true);
      row.querySelectorAll("input").forEach((i) => { i.value = ""; i.removeAttribute("aria-invalid"); });
      rows.append(row); row.querySelector("input").focus();
    });
    $("add-dnc").addEventListener("click", () => {
      const rows = $("do-not-contact"), row = rows.lastElementChild.cloneNode(true);
      row.querySelectorAll("input").forEach((i) => { i.value = ""; i.removeAttribute("aria-invalid"); });
      rows.append(row); row.querySelector("input").focus();
    });

    // Partner and household: found by name (or e-mail, phone) through the client search.
    async function find(query, out, pick) {
      out.replaceChildren();
      if (!query.trim()) return;
      try {
        const r = await api("GET", "/api/v1/clients?q=" + encodeURIComponent(query.trim()) + "&limit=8");
        r.clients.filter((c) => c.client_id !== clientId).forEach((c) => out.append(el("li", {}, el("span", {}, c.name),
          el("button", { type: "button", onclick: () => { out.replaceChildren(); pick(c); } }, _("Choose")))));
        if (!out.children.length) out.append(el("li", { class: "muted" }, _("No client found.")));
      } catch (e) { out.append(el("li", { class: "error" }, e.message)); }
    }
    function finder(input, button, out, pick) {
      button.addEventListener("click", () => find($(input).value, $(out), pick));
      $(input).addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); find($(input).value, $(out), pick); } });
    }
    finder("partner-q", $("partner-find"), "partner-results", (c) => {
      $("f-partner_id").value = c.client_id;
      $("partner-picked").querySelector(".picked-name").textContent = c.name;
      $("partner-picked").hidden = false; $("partner-q").value = "";
    });
    $("partner-remove").addEventListener("click", () => { $("f-partner_id").value = ""; $("partner-picked").hidden = true; });
    finder("household-q", $("household-find"), "household-results", (c) => {
      if (form.querySelector('.household-row[data-client-id="' + c.client_id + '"]')) return;
      const row = $("household-row").content.firstElementChild.cloneNode(true);
      row.dataset.clientId = c.client_id; row.querySelector(".picked-name").textContent = c.name;
      $("household-rows").append(row); $("household-q").value = ""; row.querySelector("select").focus();
    });
    $("household-rows").addEventListener("click", (ev) => {
      const button = ev.target.closest(".household-remove"); if (button) button.closest(".household-row").remove();
    });

    function clearErrors() {
      form.querySelectorAll("[data-error-for]").forEach((n) => { n.textContent = ""; });
      form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
    }

    // The API names every field it refuses (emails[1], dates.birthday, ring_sizes.left ring...):
    // each sentence goes next to the closest field on the form, or on top when none matches.
    function slotFor(field) {
      let slot = $("form-error"), best = 0;
      form.querySelectorAll("[data-error-for]").forEach((n) => {
        const name = n.dataset.errorFor;
        if (name && name.length > best && (field === name || field.startsWith(name + ".") || field.startsWith(name + "["))) {
          slot = n; best = name.length;
        }
      });
      return slot;
    }
    function showErrors(e) {
      const problems = (e.body && e.body.problems && e.body.problems.length) ? e.body.problems
        : [{ field: (e.body && e.body.field) || "", message: e.message }];
      let first = null;
      problems.forEach((p) => {
        const slot = slotFor(p.field || "");
        slot.textContent = slot.textContent ? slot.textContent + " " + p.message : p.message;
        const inputs = slot.id ? form.querySelectorAll('[aria-describedby="' + slot.id + '"]') : [];
        inputs.forEach((i) => i.setAttribute("aria-invalid", "true"));
        if (!first) first = inputs.length ? inputs[0] : slot;
      });
      if (problems.length > 1 && e.message) $("form-error").textContent = e.message;
      if (first && first.focus && first.tagName !== "P") first.focus(); else if (first) first.scrollIntoView({ block: "center" });
    }

    // A length as a person types it in the store's way (17,5 or 17.5 cm; 175 mm) -> millimetres.
    function millimetres(typed, unit) {
      const digits = unit === "cm" ? 1 : 0;
      const raw = typed.replace(/\s*(cm|mm)$/i, "").trim();
      // The plain form (17.5) too, but never a comma read as a thousands mark: 17,5 is no 175.
      const value = parseGrouped(raw, digits) ?? (raw.includes(",") ? null : parsePlain(raw, digits));
      return value === null || value < 0n ? null : Number(value);
    }

    function collect(original) {
      const o = original || {};
      const sizes = {};
      for (const row of form.querySelectorAll(".size-row")) {
        const finger = row.querySelector(".size-finger").value.trim(), size = row.querySelector(".size-value").value.trim();
        if (size && !finger) throw new HubError(400, { error: "invalid", field: "ring_sizes", detail: _("Say which finger size {size} is for.", { size }) });
        if (finger && size) sizes[finger] = size;
      }
      const lengths = {};
      for (const row of form.querySelectorAll(".length-row")) {
        const typed = row.querySelector(".length-value").value.trim(), unit = row.querySelector(".length-unit").value;
        if (!typed) continue;
        const mm = millimetres(typed, unit);
        if (mm === null) throw new HubError(400, { error: "invalid", field: "lengths." + row.dataset.kind, detail: _("“{value}” is not a length.", { value: typed }) });
        lengths[row.dataset.kind] = { mm, unit };
      }
      const address = {};
      const firstAddress = (o.addresses || [])[0] || {};
      if (firstAddress.label) address.label = firstAddress.label;
      ["line1", "line2", "postcode", "city", "region", "country"].forEach((k) => { if (text("f-" + k)) address[k] = text("f-" + k); });
      const others = (o.addresses || []).slice(1);  // the form edits the first address only
      const addresses = Object.keys(address).some((k) => k !== "label") ? [address, ...others] : others;
      const dates = Object.assign({}, o.dates || {});
      ["birthday", "anniversary"].forEach((k) => { if (text("f-" + k)) dates[k] = text("f-" + k); else delete dates[k]; });
      const preferences = {};
      ["metals", "stones", "colours", "styles"].forEach((topic) => { if (checked(topic).length) preferences[topic] = checked(topic); });
      const designers = [...new Set([...checked("designers"), ...lines("f-other-designers")])];
      if (designers.length) preferences.designers = designers;
      if (text("f-taste")) preferences.note = text("f-taste");
      const conversation = {};
      form.querySelectorAll("input.conversation").forEach((i) => { if (i.value.trim()) conversation[i.dataset.topic] = i.value.trim(); });
      // Consent: only the channels answered; the book adds a change where the answer differs.
      const consent = {};
      form.querySelectorAll(".consent-row").forEach((row) => {
        const said = (row.querySelector("input[type=radio]:checked") || {}).value;
        if (said) consent[row.dataset.channel] = { marketing: said === "yes", how: row.querySelector(".consent-how").value };
      });
      const doNotContact = [];
      form.querySelectorAll(".dnc-row").forEach((row) => {
        const from = row.querySelector(".dnc-from").value, to = row.querySelector(".dnc-to").value, reason = row.querySelector(".dnc-reason").value.trim();
        if (from || to || reason) doNotContact.push({ from: from || null, to: to || null, reason: reason || null });
      });
      const household = [...form.querySelectorAll(".household-row")].map((row) => ({ client_id: row.dataset.clientId, relation: row.querySelector("select").value }));
      return { title: text("f-title"), first_name: text("f-first_name"), last_name: text("f-last_name"),
        emails: lines("f-emails"), phones: lines("f-phones"), addresses, ring_sizes: sizes, lengths, dates, preferences,
        budget: checked("budget")[0] || null, partner_id: $("f-partner_id").value || null, household, conversation,
        primary_associate: $("f-primary_associate").value || null, secondary_associate: $("f-secondary_associate").value || null,
        consent, do_not_contact: doNotContact, notes: $("f-notes").value.trim() };
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
      } catch (e) { showErrors(e); $("client-save").disabled = false; }
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
        if (!ps.length) { $("return-error").textContent = _("Pick the lines that come back."); return; }
        if (!valid(ps)) { $("return-error").textContent = _("Type how many pieces come back."); return; }
        const to = $("return-refund-to") ? $("return-refund-to").value : "";
        run("return", Object.assign({ lines: ps.map((p) => ({ line_no: p.line_no, quantity: p.quantity })),
          reason: $("return-reason").value }, to ? { refund_to: to } : {}), $("return-error"));
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

  // -- a returned piece: the manager's inspection ------------------------------------------------
  function setupInspection() {
    const form = $("inspect-form"); if (!form) return;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("inspect-error").textContent = "";
      $("inspect-button").disabled = true;
      const outcome = (form.querySelector('input[name="outcome"]:checked') || {}).value;
      try {
        await api("POST", "/api/v1/items/" + encodeURIComponent(form.dataset.itemId) + "/inspection",
          { outcome, note: $("inspect-note").value.trim() });
        location.reload();
      } catch (e) { $("inspect-error").textContent = e.message; $("inspect-button").disabled = false; }
    });
  }

  // -- settings: what each role may do -----------------------------------------------------------
  function setupRoles() {
    const checked = (form) => Array.from(form.querySelectorAll('input[name="permission"]:checked')).map((i) => i.value);
    const save = (role, permissions) => api("PUT", "/api/v1/roles/" + encodeURIComponent(role), { permissions });
    document.querySelectorAll("form.role-form").forEach((form) => {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const error = form.querySelector("[data-role-error]"); error.textContent = "";
        try {
          await save(form.dataset.role, checked(form));
          toast(_("Saved"));
        } catch (e) { error.textContent = e.message; }
      });
    });
    const add = $("new-role-form"); if (!add) return;
    add.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("new-role-error").textContent = "";
      const like = document.querySelector('form.role-form[data-role="' + CSS.escape($("new-role-like").value) + '"]');
      try {
        await save($("new-role-name").value.trim(), like ? checked(like) : []);
        location.reload();
      } catch (e) { $("new-role-error").textContent = e.message; }
    });
  }

  // Layers' floor panels register here (their scripts load before the floor is set up).
  const floorHooks = [];
  const onFloor = (fn) => { floorHooks.push(fn); };

  document.addEventListener("DOMContentLoaded", () => { setupSignIn(); setupFloor(); setupClientForm(); setupSale(); setupInspection(); setupRoles(); });
  // A layer that shows other currencies (hub/travel) adds how each is written here.
  const addCurrencies = (formats) => { W.currencies = Object.assign({}, W.currencies || {}, formats); };
  window.loupe = { api, fmt, parseAmount, parseDiscount, _, term, toast, clearToast, el,
    withApproval, onFloor, addCurrencies };
})();
