/* The appraisals' screen: the form that issues one, for a piece of the books (its serial) or
   for her own item (described, its stones one row each, weighed, photographed). workshop.js,
   loaded with it, follows the scale into the weight field and the envelopes' scans, as on
   every workshop screen; this script finds her by name, keeps the photos for her before the
   appraisal names them, sends the form and puts each refusal beside its field. Text goes in
   with textContent only. */
"use strict";
(function () {
  const L = window.loupe;
  const $ = (id) => document.getElementById(id);
  const _ = L._;
  const form = $("appraisal-form");
  if (!form) return;
  const root = form.closest("[data-page]");
  const cur = root.dataset.currency || "";
  const enc = encodeURIComponent;
  const W = (() => { try { return JSON.parse($("loupe-words").textContent); } catch (e) { return {}; } })();
  const NUM = W.number || { decimal: ".", group: ",", minus: "-", grouping: [3, 3] };
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const general = $("appraisal-error");

  // -- numbers as a person types them, in the store's marks (as the intake form reads them) --
  function parseDecimal(text, places) {
    let s = String(text).replace(/[\s\u00a0\u202f]/g, "");
    if (!s) return null;
    if (NUM.group !== "." && NUM.group !== NUM.decimal) s = s.split(NUM.group).join("");
    s = s.split(NUM.decimal).join(".");
    const m = new RegExp("^(\\d{1,6})(?:\\.(\\d{1," + places + "}))?$").exec(s);
    return m ? Number(m[1]) * 10 ** places + Number((m[2] || "").padEnd(places, "0")) : null;
  }
  const parseGrams = (text) => parseDecimal(String(text).trim().replace(/\s*g$/i, ""), 3);
  const parseCarats = (text) => parseDecimal(String(text).trim().replace(/\s*ct$/i, ""), 2);
  const example = (whole, fraction) => whole + NUM.decimal + fraction;

  // A problem found before anything is sent, shaped as the hub's answers are.
  function problem(field, message) { const e = new Error(message); e.body = { problems: [{ field, message }] }; return e; }
  function amountOf(id, field) {
    const typed = $(id).value.trim(), amount = typed ? L.parseAmount(typed, cur) : null;
    if (amount === null || amount < 0) throw problem(field, _("Type an amount such as {example}", { example: L.fmt(123450, cur) }));
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
    if (mg === null) throw problem(field, _("Type a weight in grams such as {example}", { example: example(4, "215") }));
    return mg;
  }

  // Every sentence of a refused form beside the field it is about (the longest matching
  // name: `stones[1].carat_cents` goes to the second stone's row), the rest on top.
  function showProblems(e) {
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
    if (first && first.focus && first.tagName !== "P") first.focus();
    else (first || general).scrollIntoView({ block: "center" });
  }

  // -- whose it is: her name typed, the client search answers, she is chosen -----------------
  const search = $("appraisal-client-search"), results = $("appraisal-client-results");
  let timer = null, asked = "";
  search.addEventListener("input", () => {
    $("appraisal-client-id").value = ""; $("appraisal-client-chosen").textContent = "";
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
            $("appraisal-client-id").value = c.client_id; search.value = c.name;
            $("appraisal-client-chosen").textContent = _("For {name}", { name: c.name });
            results.replaceChildren();
          } }, _("Choose")))));
        if (!r.clients.length) results.append(L.el("li", { class: "muted" }, _("No client found.")));
      } catch (e) { general.textContent = e.message; }
    }, 250);
  });

  // A piece of the books is described by its record: her item's fields only for her item.
  const subject = () => $("appraisal-subject").value;
  const showSubject = () => form.querySelectorAll(".for-subject").forEach((n) => { n.hidden = !n.dataset.subjects.split(" ").includes(subject()); });
  $("appraisal-subject").addEventListener("change", showSubject); showSubject();

  // -- the stones: one row each, the centre stone first --------------------------------------
  const rows = $("stone-rows");
  function addStone() {
    const row = $("stone-row").content.firstElementChild.cloneNode(true);
    row.querySelector(".stone-remove").addEventListener("click", () => row.remove());
    rows.append(row);
    return row;
  }
  $("add-stone").addEventListener("click", () => addStone().querySelector("select").focus());
  function stones(problems) {
    return [...rows.querySelectorAll(".stone-row")].map((row, i) => {
      const carat = parseCarats(row.querySelector(".stone-carat").value);
      if (carat === null) problems.push({ field: "stones[" + i + "].carat_cents", message: _("Type the stone’s weight in carats, such as {example}", { example: example(1, "01") }) });
      const stone = { type: row.querySelector(".stone-type").value, carat_cents: carat };
      ["colour", "clarity", "shape", "lab", "certificate"].forEach((key) => {
        const typed = row.querySelector(".stone-" + key).value.trim();
        if (typed) stone[key] = typed;
      });
      return stone;
    });
  }

  // -- photos: previewed as taken, kept for her (or the store) when the form is sent ----------
  const photos = [];
  const input = $("appraisal-photo-input"), previews = $("appraisal-photo-previews");
  input.addEventListener("change", () => {
    [...input.files].forEach((file) => {
      const caption = L.el("input", { class: "photo-caption", maxlength: "120", autocomplete: "off", placeholder: _("Caption"), "aria-label": _("Caption") });
      const photo = { file, caption, kept: {} };
      photos.push(photo);
      const item = L.el("li", {}, caption);
      const reader = new FileReader();
      reader.onload = () => item.prepend(L.el("img", { src: reader.result, alt: file.name || _("Photo") }));
      reader.readAsDataURL(file);
      item.append(L.el("button", { type: "button", class: "quiet", onclick: () => { photos.splice(photos.indexOf(photo), 1); item.remove(); } }, _("Remove")));
      previews.append(item);
    });
    input.value = "";
  });
  // Each photo is sent once for its owner: a form refused and sent again names the same file.
  async function kept(photo, clientId) {
    const owner = clientId || "store";
    if (photo.kept[owner]) return photo.kept[owner];
    const data = new FormData();
    data.append("file", photo.file, photo.file.name || "photo.jpg");
    const res = await fetch("/api/v1/appraisals/photos" + (clientId ? "?client_id=" + enc(clientId) : ""), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf() } });
    let answer = {};
    try { answer = await res.json(); } catch (e) { answer = {}; }
    if (!res.ok) throw problem("photos", answer.detail || _("The photo could not be kept; try again."));
    photo.kept[owner] = { hash: answer.hash, size: answer.size };
    return photo.kept[owner];
  }

  // -- the form ---------------------------------------------------------------------------------
  function body() {
    const problems = [];
    const attempt = (fn) => { try { return fn(); } catch (e) { if (e.body) problems.push(...e.body.problems); else throw e; return null; } };
    const out = { client_id: $("appraisal-client-id").value, purpose: $("appraisal-purpose").value,
      appraiser: $("appraisal-appraiser").value, value: attempt(() => amountOf("appraisal-value", "value")) };
    if (subject() === "piece") {
      out.item_id = $("appraisal-item").value.trim();
      if (!out.item_id) problems.push({ field: "item_id", message: _("Scan or type the serial of the piece.") });
    } else {
      if (!out.client_id) problems.push({ field: "client_id", message: _("Find her by name and choose her.") });
      Object.assign(out, { description: $("appraisal-description").value.trim(),
        category: $("appraisal-category").value, metal: $("appraisal-metal").value,
        metal_colour: $("appraisal-colour").value, designer: $("appraisal-designer").value.trim(),
        fineness: attempt(() => wholeOf("appraisal-fineness", "fineness")),
        weight_mg: attempt(() => gramsOf("appraisal-weight", "weight_mg")), stones: stones(problems) });
    }
    if (problems.length) { const e = new Error(problems[0].message); e.body = { problems }; throw e; }
    Object.keys(out).forEach((key) => { if (out[key] === null || out[key] === "") delete out[key]; });
    return out;
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    // Each stone's row answers for its own index.
    rows.querySelectorAll(".stone-row").forEach((row, i) => { row.querySelector(".stone-error").dataset.errorFor = "stones[" + i + "]"; });
    let sent;
    try { sent = body(); } catch (e) { showProblems(e); return; }
    const button = $("appraisal-submit"); button.disabled = true;
    try {
      const named = [];
      for (const photo of photos) {
        const ref = await kept(photo, sent.client_id);
        const caption = photo.caption.value.trim();
        named.push(caption ? { ...ref, caption } : ref);
      }
      if (named.length) sent.photos = named;
      const made = await L.api("POST", "/api/v1/appraisals", sent);
      delete form.dataset.dirty;
      location.assign("/workshop/appraisals/" + enc(made.appraisal_id));
    } catch (e) { showProblems(e); button.disabled = false; }
  });
})();
