/* The workshop's screens: the board (a scanned envelope moves its job on), the intake form
   (the client found by name, the tablet's camera, the scale read into the form), a job's page
   (moves, payments, quotes, photos, the envelope, the pick-up with her signature) and the
   overdue list. The pages are rendered by the hub in the store's words; this script sends
   the forms to the API and refreshes what changed. Text goes in with textContent only. */
"use strict";
(function () {
  const L = window.loupe;
  const $ = (id) => document.getElementById(id);
  const _ = L._;
  const root = document.querySelector(".workshop[data-page]");
  if (!root) return;
  const page = root.dataset.page;
  const cur = root.dataset.currency || "";
  const register = root.dataset.register || "";
  const enc = encodeURIComponent;
  const W = (() => { try { return JSON.parse($("loupe-words").textContent); } catch (e) { return {}; } })();
  const NUM = W.number || { decimal: ".", group: ",", minus: "-", grouping: [3, 3] };
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // -- numbers: weights in the store's way, amounts through loupe.js -------------------------
  function digits(scaled, places) {
    const text = String(Math.abs(scaled)).padStart(places + 1, "0");
    let whole = places ? text.slice(0, -places) : text;
    const groups = []; let size = NUM.grouping[0];
    while (whole.length > size) { groups.unshift(whole.slice(-size)); whole = whole.slice(0, -size); size = NUM.grouping[1]; }
    const body = [whole, ...groups].join(NUM.group) + (places ? NUM.decimal + text.slice(-places) : "");
    return scaled < 0 ? NUM.minus + body : body;
  }
  // The hub's one rounding of a weight: to the centigram, half up (hub.words.Words.grams).
  const grams = (mg) => digits(Math.floor((mg + 5) / 10), 2) + "\u00a0g";
  // A weight as the field holds it: every milligram the scale gave, no grouping.
  const typedGrams = (mg) => String(Math.floor(mg / 1000)) + NUM.decimal + String(mg % 1000).padStart(3, "0");
  // A decimal as a person types it (4,215 or 4.215, the store's marks) -> an integer of
  // 10**-places units; null when it cannot be read.
  function parseDecimal(text, places) {
    let s = String(text).replace(/[\s\u00a0\u202f]/g, "");
    if (!s) return null;
    if (NUM.group !== "." && NUM.group !== NUM.decimal) s = s.split(NUM.group).join("");
    s = s.split(NUM.decimal).join(".");
    const m = new RegExp("^(\\d{1,6})(?:\\.(\\d{1," + places + "}))?$").exec(s);
    return m ? Number(m[1]) * 10 ** places + Number((m[2] || "").padEnd(places, "0")) : null;
  }
  // A weight in grams (“g” or not) -> milligrams; carats (“ct” or not) -> hundredths.
  const parseGrams = (text) => parseDecimal(String(text).trim().replace(/\s*g$/i, ""), 3);
  const parseCarats = (text) => parseDecimal(String(text).trim().replace(/\s*ct$/i, ""), 2);
  const example = () => L.fmt(123450, cur);

  // A problem found before anything is sent, shaped as the hub's answers are.
  function problem(field, message) { const e = new Error(message); e.body = { problems: [{ field, message }] }; return e; }
  function amountOf(id, field, required) {
    const typed = $(id).value.trim();
    if (!typed) { if (required) throw problem(field, _("Type an amount such as {example}", { example: example() })); return null; }
    const amount = L.parseAmount(typed, cur);
    if (amount === null || amount < 0) throw problem(field, _("Type an amount such as {example}", { example: example() }));
    return amount;
  }
  function wholeOf(id, field) {
    const typed = $(id).value.trim();
    if (!typed) return null;
    if (!/^\d+$/.test(typed)) throw problem(field, _("Type a whole number."));
    return Number(typed);
  }
  function gramsOf(id, field) {
    const typed = $(id).value.trim();
    if (!typed) return null;
    const mg = parseGrams(typed);
    if (mg === null) throw problem(field, _("Type a weight in grams such as {example}", { example: typedGrams(4215) }));
    return mg;
  }
  function tenderOf(prefix, amount) {
    const tender = { type: $(prefix + "-type").value, amount };
    if (tender.type === "card") tender.last4 = $(prefix + "-last4").value.trim();
    return tender;
  }
  // A card's last 4 digits are asked only for a card.
  function setupTenderTypes() {
    document.querySelectorAll("select.tender-type").forEach((select) => {
      const scope = select.closest(".row") || select.form;
      const show = () => scope.querySelectorAll(".card-only").forEach((n) => { n.hidden = select.value !== "card"; });
      select.addEventListener("change", show); show();
    });
  }

  // Every sentence of a refused form beside the field it is about (the longest matching
  // name: `services[1].detail` goes to the second service's row), the rest on top.
  function showProblems(form, e, general) {
    form.querySelectorAll("[data-error-for]").forEach((p) => { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
    general.textContent = "";
    const body = (e && e.body) || {};
    const problems = body.problems && body.problems.length ? body.problems
      : [{ field: body.field || "", message: e.message }];
    let first = null;
    problems.forEach((p) => {
      const field = p.field || "";
      let slot = null, best = -1;
      form.querySelectorAll("[data-error-for]").forEach((n) => {
        const name = n.dataset.errorFor;
        if (name && name.length > best && (field === name || field.startsWith(name + ".") || field.startsWith(name + "["))) { slot = n; best = name.length; }
      });
      if (!slot) { general.textContent = general.textContent ? general.textContent + " " + p.message : p.message; return; }
      slot.textContent = slot.textContent ? slot.textContent + " " + p.message : p.message;
      if (slot.id) form.querySelectorAll('[aria-describedby="' + slot.id + '"]').forEach((i) => { i.setAttribute("aria-invalid", "true"); first = first || i; });
      first = first || slot;
    });
    if (problems.length > 1 && !general.textContent && body.detail) general.textContent = body.detail;
    if (first && first.focus && first.tagName !== "P") first.focus();
    else (first || general).scrollIntoView({ block: "center" });
  }

  // A form touched by hand is not redrawn under her fingers by a live refresh.
  const dirty = () => !!document.querySelector("form[data-dirty]");
  document.addEventListener("input", (ev) => { const f = ev.target.closest && ev.target.closest("form"); if (f) f.dataset.dirty = "1"; });

  // A manager's approval when the hub asks for one: the floor's own dialog (loupe.js).
  const withApproval = (method, path, body) => L.withApproval(method, path, body);

  // -- files: photos from the tablet's camera, sent one by one ---------------------------------
  async function upload(jobId, file, kind) {
    const data = new FormData();
    data.append("file", file, file.name || "photo.jpg");
    const res = await fetch("/api/v1/jobs/" + enc(jobId) + "/attachments?kind=" + enc(kind), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf() } });
    let answer = {};
    try { answer = await res.json(); } catch (e) { answer = {}; }
    if (!res.ok) throw new Error(answer.detail || _("The photo could not be added; try again."));
    return answer;
  }
  // Previews read as data: URLs (the hub's pages allow no other kind of picture source).
  function previews(input, list, chosen) {
    input.addEventListener("change", () => {
      [...input.files].forEach((file) => {
        chosen.push(file);
        const item = L.el("li", {});
        const reader = new FileReader();
        reader.onload = () => item.prepend(L.el("img", { src: reader.result, alt: file.name || _("Photo") }));
        reader.readAsDataURL(file);
        item.append(L.el("button", { type: "button", class: "quiet", onclick: () => { chosen.splice(chosen.indexOf(file), 1); item.remove(); } }, _("Remove")));
        list.append(item);
      });
      input.value = "";
    });
  }

  // -- the scale: read on demand, and followed live ------------------------------------------
  const weighers = [];
  function setupWeigh(box) {
    const input = box.querySelector(".weigh-grams"), state = box.querySelector(".weigh-state");
    const show = (mg, stable) => {
      if (document.activeElement !== input) input.value = typedGrams(mg);
      state.textContent = grams(mg) + " · " + (stable ? _("stable") : _("settling"));
      state.classList.toggle("settling", !stable);
      if (input.form) input.form.dataset.dirty = "1";
    };
    weighers.push(show);
    box.querySelector(".weigh-read").addEventListener("click", async () => {
      state.textContent = _("Reading the scale…");
      try {
        const r = await L.api("GET", "/api/v1/devices");
        const scales = r.devices.filter((d) => d.kind === "scale");
        const scale = scales.find((d) => d.register === register) || scales[0];
        if (!scale) { state.textContent = _("No scale is connected to this hub."); return; }
        if (scale.state !== "connected" || scale.milligrams === null || scale.milligrams === undefined) {
          state.textContent = _("The scale is not ready: {state}", { state: L.term("device_state", scale.state) }); return;
        }
        show(scale.milligrams, scale.stable);
      } catch (e) { state.textContent = e.message; }
    });
  }
  function weighed(ev) {
    const d = ev.data || {};
    if (d.register && register && d.register !== register) return;  // another counter's scale
    if (typeof d.milligrams === "number") weighers.forEach((show) => show(d.milligrams, !!d.stable));
  }

  // -- live: the envelope scans and the jobs' entries ---------------------------------------------
  function listen(on) {
    function connect() {
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/events");
      ws.onmessage = (m) => {
        let ev; try { ev = JSON.parse(m.data); } catch (e) { return; }
        if (ev.topic === "workshop.scanned" && on.scanned) on.scanned(ev.data || {});
        else if (ev.topic === "device.weight") weighed(ev);
        else if (on.entry && /^journal\.(job|deposit)\./.test(ev.topic)) on.entry(ev.data || {});
      };
      ws.onclose = (ev) => { if (ev.code !== 1008) setTimeout(connect, 2000); };
    }
    connect();
  }
  // The same page, asked again: its parts that show the books are swapped in place.
  async function freshPage() {
    const res = await fetch(location.pathname + location.search, { credentials: "same-origin", headers: { "Accept": "text/html" } });
    if (!res.ok) throw new Error(_("The hub did not answer as expected; try again."));
    return new DOMParser().parseFromString(await res.text(), "text/html");
  }
  function swap(doc, ids) {
    ids.forEach((id) => { const mine = $(id), theirs = doc.getElementById(id); if (mine && theirs) mine.replaceWith(document.importNode(theirs, true)); });
  }
  // One refresh at a time; events during one ask for one more after it.
  function refresher(run) {
    let running = false, again = false;
    return async function refresh() {
      if (running) { again = true; return; }
      running = true;
      try { await run(); } catch (e) { L.toast(e.message, true); }
      running = false;
      if (again) { again = false; refresh(); }
    };
  }
  // A scan on any workshop screen but the board opens the job (unless a form is being filled).
  function openScanned(d) {
    if (!d.found) { L.toast(_("No job {job_id} in this store.", { job_id: d.job_id }), true); return; }
    if (page === "job" && root.dataset.jobId === d.job_id) return;
    if (dirty()) { L.toast(_("Envelope {job_id} scanned: finish this form, or leave it to open the job.", { job_id: d.job_id })); return; }
    location.assign("/workshop/jobs/" + enc(d.job_id));
  }

  // -- the board ------------------------------------------------------------------------------
  function setupBoard() {
    const refresh = refresher(async () => swap(await freshPage(), ["board", "overdue-link"]));
    listen({
      scanned: async (d) => {
        if (!d.found) { L.toast(_("No job {job_id} in this store.", { job_id: d.job_id }), true); return; }
        try {
          const job = await L.api("POST", "/api/v1/jobs/" + enc(d.job_id) + "/stage", { move: "next", expect: d.stage });
          L.toast(_("{job_id}: {stage}", { job_id: job.job_id, stage: L.term("job_stage", job.stage) }));
        } catch (e) { L.toast(e.message, true); }
        refresh();
      },
      entry: () => refresh(),
    });
  }

  // Her name typed, the client search answers, she is chosen (as the appointments' booking).
  function clientPicker(prefix, errors) {
    const search = $(prefix + "-client-search"), results = $(prefix + "-client-results");
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
        } catch (e) { errors.textContent = e.message; }
      }, 250);
    });
  }

  // -- the intake form -----------------------------------------------------------------------------
  function setupIntake() {
    const form = $("intake-form"); if (!form) { listen({ scanned: openScanned }); return; }
    clientPicker("intake", $("intake-error"));

    const kind = () => $("intake-kind").value;
    const showKind = () => form.querySelectorAll(".for-kind").forEach((n) => { n.hidden = !n.dataset.kinds.split(" ").includes(kind()); });
    $("intake-kind").addEventListener("change", showKind); showKind();
    $("intake-estimate").addEventListener("change", () => { $("intake-limit-label").hidden = $("intake-estimate").value !== "limit"; });

    // The services: one row each, the engraving's lettering only for an engraving.
    const rows = $("service-rows");
    function total() {
      let sum = 0, readable = true;
      rows.querySelectorAll(".service-price").forEach((i) => {
        if (!i.value.trim()) return;
        const v = L.parseAmount(i.value, cur); if (v === null) readable = false; else sum += v;
      });
      $("intake-services-total").textContent = readable ? L.fmt(sum, cur) : "—";
    }
    function addRow() {
      const row = $("service-row").content.firstElementChild.cloneNode(true);
      const kindSelect = row.querySelector(".service-kind");
      kindSelect.addEventListener("change", () => { row.querySelector(".service-font-label").hidden = kindSelect.value !== "engraving"; });
      row.querySelector(".service-remove").addEventListener("click", () => { row.remove(); total(); });
      row.querySelector(".service-price").addEventListener("input", total);
      rows.append(row);
      return row;
    }
    $("add-service").addEventListener("click", () => addRow().querySelector("select").focus());
    addRow(); total();

    const photos = [];
    previews($("intake-photo-input"), $("intake-photo-previews"), photos);

    function body() {
      const problems = [];
      const attempt = (fn) => { try { return fn(); } catch (e) { if (e.body) problems.push(...e.body.problems); else throw e; return null; } };
      const k = kind();
      const out = { kind: k, client_id: $("intake-client-id").value, item_kind: $("intake-item-kind").value,
        description: $("intake-description").value.trim(), condition: $("intake-condition").value.trim() || null,
        declared_value: attempt(() => amountOf("intake-declared", "declared_value")),
        weight_mg: attempt(() => gramsOf("intake-weight", "weight_mg")),
        stone_count: attempt(() => wholeOf("intake-stones", "stone_count")),
        express: $("intake-express").checked, promised: $("intake-promised").value || null };
      if (!out.client_id) problems.push({ field: "client_id", message: _("Find her by name and choose her.") });
      const who = $("intake-who").value;
      if (who.startsWith("staff:")) out.assignee = who.slice(6);
      if (who.startsWith("vendor:")) out.vendor = who.slice(7);
      if (k === "repair") {
        out.services = [...rows.querySelectorAll(".service-row")].map((row, i) => {
          const typed = row.querySelector(".service-price").value.trim();
          const price = typed ? L.parseAmount(typed, cur) : 0;
          if (price === null) problems.push({ field: "services[" + i + "].price", message: _("Type an amount such as {example}", { example: example() }) });
          const s = { service: row.querySelector(".service-kind").value, detail: row.querySelector(".service-detail").value.trim() || null, price: price || 0 };
          if (s.service === "engraving") s.font = row.querySelector(".service-font").value;
          return s;
        });
        out.estimate = $("intake-estimate").value || null;
        if (out.estimate === "limit") out.estimate_limit = attempt(() => amountOf("intake-limit", "estimate_limit", true));
      } else if (k === "custom") {
        const specs = {};
        if ($("spec-metal").value) specs.metal = $("spec-metal").value;
        const fineness = attempt(() => wholeOf("spec-fineness", "specs.fineness")); if (fineness) specs.fineness = fineness;
        if ($("spec-size").value.trim()) specs.size = $("spec-size").value.trim();
        if ($("spec-stone").value) {
          const carat = parseCarats($("spec-carat").value);
          const stone = { type: $("spec-stone").value, carat_cents: carat };
          if (carat === null) problems.push({ field: "specs", message: _("Type the centre stone’s weight in carats, such as {example}", { example: digits(101, 2) }) });
          if ($("spec-colour").value.trim()) stone.colour = $("spec-colour").value.trim();
          if ($("spec-clarity").value.trim()) stone.clarity = $("spec-clarity").value.trim();
          specs.stones = [stone];
        }
        out.specs = specs;
        out.price = attempt(() => amountOf("custom-price", "price"));
      } else {
        out.source = $("special-source").value.trim() || null;
        out.price = attempt(() => amountOf("special-price", "price"));
      }
      const deposit = attempt(() => amountOf("deposit-amount", "deposit"));
      if (deposit) out.deposit = { register_id: $("deposit-register").value, tenders: [tenderOf("deposit", deposit)] };
      if (problems.length) { const e = new Error(problems[0].message); e.body = { problems }; throw e; }
      Object.keys(out).forEach((key) => { if (out[key] === null || out[key] === "") delete out[key]; });
      return out;
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      // Each service row answers for its own index.
      rows.querySelectorAll(".service-row").forEach((row, i) => { row.querySelector(".service-error").dataset.errorFor = "services[" + i + "]"; });
      const button = $("intake-submit"); button.disabled = true;
      let job;
      try { job = await L.api("POST", "/api/v1/jobs", body()); } catch (e) {
        showProblems(form, e, $("intake-error")); button.disabled = false; return;
      }
      let unsent = 0;
      for (const file of photos) {
        try { await upload(job.job_id, file, "photo"); } catch (e) { unsent += 1; }
      }
      delete form.dataset.dirty;
      location.assign("/workshop/jobs/" + enc(job.job_id) + (unsent ? "?unsent=" + unsent : ""));
    });
    listen({ scanned: openScanned });
  }

  // -- her signature: drawn with a finger (or a mouse) on a canvas ------------------------------
  function signaturePad(canvas) {
    const ctx = canvas.getContext("2d");
    let drawing = false, drawn = false, last = null, width = 0;
    function blank() {
      const ratio = window.devicePixelRatio || 1, box = canvas.getBoundingClientRect();
      width = box.width;
      canvas.width = Math.round(box.width * ratio); canvas.height = Math.round(box.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, box.width, box.height);
      ctx.lineWidth = 2.4; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = ctx.fillStyle = "#1e1c19";
      drawn = false;
    }
    const at = (ev) => { const box = canvas.getBoundingClientRect(); return { x: ev.clientX - box.left, y: ev.clientY - box.top }; };
    canvas.addEventListener("pointerdown", (ev) => {
      ev.preventDefault(); drawing = true; last = at(ev);
      if (canvas.setPointerCapture) canvas.setPointerCapture(ev.pointerId);
      ctx.beginPath(); ctx.arc(last.x, last.y, 1.2, 0, 2 * Math.PI); ctx.fill(); drawn = true;
      if (canvas.closest("form")) canvas.closest("form").dataset.dirty = "1";
    });
    canvas.addEventListener("pointermove", (ev) => {
      if (!drawing) return;
      ev.preventDefault();
      const p = at(ev);
      ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke(); last = p;
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach((name) => canvas.addEventListener(name, () => { drawing = false; }));
    // A phone's toolbar folding away resizes the window: only a new width starts afresh.
    window.addEventListener("resize", () => { if (canvas.getBoundingClientRect().width !== width) blank(); });
    blank();
    return { drawn: () => drawn, clear: blank, png: () => canvas.toDataURL("image/png") };
  }

  // -- a job's page ------------------------------------------------------------------------------
  function setupJob() {
    const jobId = root.dataset.jobId;
    const path = (what) => "/api/v1/jobs/" + enc(jobId) + (what ? "/" + what : "");
    const balance = Number(root.dataset.balance || 0);
    const reload = () => { document.querySelectorAll("form[data-dirty]").forEach((f) => delete f.dataset.dirty); location.reload(); };

    document.addEventListener("click", async (ev) => {
      const button = ev.target.closest("[data-move]"); if (!button) return;
      const note = $("move-note").value.trim();
      $("move-error").textContent = "";
      if (button.dataset.needsNote && !note) { $("move-error").textContent = _("Say why in the note first."); $("move-note").focus(); return; }
      button.disabled = true;
      try { await L.api("POST", path("stage"), { move: button.dataset.move, note: note || null }); reload(); }
      catch (e) { $("move-error").textContent = e.message; button.disabled = false; }
    });

    async function print(what, button, done, body) {
      $("print-error").textContent = ""; button.disabled = true;
      try { await L.api("POST", path(what), body || { register: $("print-register").value }); L.toast(done); }
      catch (e) { $("print-error").textContent = e.message; }
      button.disabled = false;
    }
    $("print-envelope").addEventListener("click", (ev) => print("envelope", ev.currentTarget, _("The envelope and her copy are printing.")));
    $("print-label").addEventListener("click", (ev) => print("label", ev.currentTarget, _("The label is printing."), {}));

    const pay = $("pay-form");
    if (pay) pay.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("pay-error").textContent = "";
      try {
        const amount = amountOf("pay-amount", "tenders") ?? balance;
        $("pay-submit").disabled = true;
        await L.api("POST", path("payments"), { register_id: $("pay-register").value, tenders: [tenderOf("pay", amount)] });
        reload();
      } catch (e) { $("pay-error").textContent = e.message; $("pay-submit").disabled = false; }
    });
    const refund = $("refund-form");
    if (refund) refund.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("refund-error").textContent = "";
      try {
        const held = L.parseAmount($("refund-amount").placeholder, cur);
        const amount = amountOf("refund-amount", "tenders") ?? held;
        $("refund-submit").disabled = true;
        await withApproval("POST", path("refund"), { register_id: $("refund-register").value, tenders: [tenderOf("refund", amount)] });
        reload();
      } catch (e) { $("refund-error").textContent = e.message; $("refund-submit").disabled = false; }
    });

    const quote = $("quote-form");
    if (quote) quote.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("quote-error").textContent = "";
      try {
        const body = { amount: amountOf("quote-amount", "amount", true) };
        const days = wholeOf("quote-days", "valid_days"); if (days) body.valid_days = days;
        $("quote-submit").disabled = true;
        await L.api("POST", path("quotes"), body);
        reload();
      } catch (e) { $("quote-error").textContent = e.message; $("quote-submit").disabled = false; }
    });
    document.querySelectorAll(".accept-quote").forEach((button) => button.addEventListener("click", async () => {
      $("quote-error").textContent = ""; button.disabled = true;
      try { await L.api("POST", path("quotes/" + enc(button.dataset.version) + "/accept"), {}); reload(); }
      catch (e) { $("quote-error").textContent = e.message; button.disabled = false; }
    }));

    const photoForm = $("photo-form");
    if (photoForm) photoForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("photo-error").textContent = "";
      const files = [...$("photo-input").files];
      if (!files.length) { $("photo-error").textContent = _("Take or choose a photo first."); return; }
      $("photo-submit").disabled = true;
      try { for (const file of files) await upload(jobId, file, "photo"); reload(); }
      catch (e) { $("photo-error").textContent = e.message; $("photo-submit").disabled = false; }
    });

    const pickup = $("pickup-form");
    if (pickup) {
      const pad = signaturePad($("signature-pad"));
      $("signature-clear").addEventListener("click", () => pad.clear());
      pickup.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const problems = [];
        const attempt = (fn) => { try { return fn(); } catch (e) { if (e.body) problems.push(...e.body.problems); else throw e; return null; } };
        const body = { register_id: $("pickup-register").value,
          weight_mg: attempt(() => gramsOf("pickup-weight", "weight_mg")),
          stone_count: attempt(() => wholeOf("pickup-stones", "stone_count")) };
        if (root.dataset.weightIn && body.weight_mg === null) problems.push({ field: "weight_mg", message: _("Weigh the piece again in front of her.") });
        if (root.dataset.stonesIn && body.stone_count === null) problems.push({ field: "stone_count", message: _("Count the stones again in front of her.") });
        if ($("pickup-type")) {
          const amount = attempt(() => amountOf("pickup-amount", "tenders")) ?? balance;
          if (amount) body.tenders = [tenderOf("pickup", amount)];
        }
        if ($("pickup-piece")) {
          const piece = { item_id: $("piece-serial").value.trim(), description: $("piece-description").value.trim() };
          const mg = attempt(() => gramsOf("piece-weight", "piece.metal_weight_mg"));
          if (mg !== null) piece.metal_weight_mg = mg;
          Object.keys(piece).forEach((k) => { if (piece[k] === "") delete piece[k]; });
          body.piece = piece;
        }
        if (!pad.drawn()) problems.push({ field: "signature", message: _("She signs on the pad first.") });
        else body.signature = pad.png();
        Object.keys(body).forEach((k) => { if (body[k] === null) delete body[k]; });
        if (problems.length) { const e = new Error(problems[0].message); e.body = { problems }; showProblems(pickup, e, $("pickup-error")); return; }
        $("pickup-submit").disabled = true;
        try { await withApproval("POST", path("collect"), body); reload(); }
        catch (e) { showProblems(pickup, e, $("pickup-error")); $("pickup-submit").disabled = false; }
      });
    }

    // Another screen moved it, took a payment or added a photo: the page follows.
    const refresh = refresher(async () => {
      const doc = await freshPage(), fresh = doc.getElementById("job");
      if (fresh && fresh.dataset.stage !== root.dataset.stage && !dirty()) { reload(); return; }
      const ids = [...document.querySelectorAll("[data-live]")].filter((n) => !n.dataset.dirty).map((n) => n.id);
      swap(doc, ids);
    });
    listen({
      scanned: (d) => (d.found && d.job_id === jobId ? refresh() : openScanned(d)),
      entry: (entry) => { if (entry.subject === "job:" + jobId || entry.subject === "deposit:" + jobId) refresh(); },
    });
  }

  // -- layaways: setting a piece aside, its instalments, handing it over, giving it up ----------
  function setupLayaways() {
    const form = $("layaway-form");
    if (form) {
      clientPicker("layaway", $("layaway-error"));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const problems = [];
        const attempt = (fn) => { try { return fn(); } catch (e) { if (e.body) problems.push(...e.body.problems); else throw e; return null; } };
        const body = { client_id: $("layaway-client-id").value, item_id: $("layaway-item").value.trim(),
          schedule: { instalments: attempt(() => wholeOf("layaway-instalments", "schedule")), first_due: $("layaway-first-due").value || null } };
        if (!body.client_id) problems.push({ field: "client_id", message: _("Find her by name and choose her.") });
        if (!body.schedule.first_due) delete body.schedule.first_due;
        const amount = attempt(() => amountOf("layaway-amount", "first_payment"));
        if (amount) body.first_payment = { register_id: $("layaway-register").value, tenders: [tenderOf("layaway", amount)] };
        if (problems.length) { const e = new Error(problems[0].message); e.body = { problems }; showProblems(form, e, $("layaway-error")); return; }
        $("layaway-submit").disabled = true;
        try {
          const made = await L.api("POST", "/api/v1/layaways", body);
          delete form.dataset.dirty;
          location.assign("/workshop/layaways/" + enc(made.layaway_id));
        } catch (e) { showProblems(form, e, $("layaway-error")); $("layaway-submit").disabled = false; }
      });
    }
    listen({ scanned: openScanned });
  }

  function setupLayaway() {
    const path = (what) => "/api/v1/layaways/" + enc(root.dataset.layawayId) + "/" + what;
    const balance = Number(root.dataset.balance || 0);
    const register = () => $("layaway-register").value;
    function send(form, what, body, error, button, approvable) {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        $(error).textContent = "";
        try {
          const b = body();
          $(button).disabled = true;
          await (approvable ? withApproval : L.api)("POST", path(what), b);
          delete form.dataset.dirty; location.reload();
        } catch (e) { $(error).textContent = e.message; $(button).disabled = false; }
      });
    }
    const pay = $("instalment-form");
    if (pay) send(pay, "payments", () => {
      const amount = amountOf("instalment-amount", "tenders") ?? Number($("instalment-amount").dataset.default);
      return { register_id: register(), tenders: [tenderOf("instalment", amount)] };
    }, "instalment-error", "instalment-submit");
    const handover = $("handover-form");
    if (handover) send(handover, "complete", () => (
      { register_id: register(), tenders: balance && $("handover-type") ? [tenderOf("handover", balance)] : [] }),
    "handover-error", "handover-submit");
    const giveup = $("giveup-form");
    if (giveup) send(giveup, "cancel", () => {
      const note = $("giveup-note").value.trim();
      if (!note) throw new Error(_("Say why she gives it up."));
      const body = { note, register_id: register() };
      if ($("giveup-type")) body.tenders = [tenderOf("giveup", Number($("giveup-type").dataset.refund))];
      return body;
    }, "giveup-error", "giveup-submit", true);
    listen({ scanned: openScanned });
  }

  setupTenderTypes();
  document.querySelectorAll("[data-weigh]").forEach(setupWeigh);
  if (page === "board") setupBoard();
  else if (page === "intake") setupIntake();
  else if (page === "job") setupJob();
  else if (page === "layaways") setupLayaways();
  else if (page === "layaway") setupLayaway();
  else listen({ scanned: openScanned });
})();
