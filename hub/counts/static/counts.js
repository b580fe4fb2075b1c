/* Counts screens: start a count, watch its progress live (count.progress on the WebSocket),
   close it and act on the result; follow one piece's signal (count.find). Text goes in with
   textContent only. */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const L = window.loupe;
  const api = (...a) => L.api(...a);
  const _ = (...a) => L._(...a), term = (...a) => L.term(...a), el = (...a) => L.el(...a);
  // Basis points as the store writes a percentage (accuracy 9,950 bp -> 99.5 %).
  const pct = (bp) => (bp === null || bp === undefined) ? "—"
    : new Intl.NumberFormat(document.documentElement.lang || undefined, { style: "percent", maximumFractionDigits: 2 }).format(bp / 10000);
  const scopeText = (scope) => (scope && scope.length ? scope.join(", ") : _("whole store"));

  function events(handler) {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/events");
    ws.onmessage = (m) => handler(JSON.parse(m.data));
    ws.onclose = (ev) => { if (ev.code !== 1008) setTimeout(() => events(handler), 2000); };
  }

  // -- the counts screen ------------------------------------------------------------------
  function setupCounts() {
    const screen = $("counts-screen"); if (!screen) return;
    const currency = screen.dataset.currency;
    const open = new Map();  // count_id -> latest progress
    let pending = false;

    function fail(e) { $("count-error").textContent = e.message; }

    function renderOpen() {
      pending = false;
      const box = $("count-open"); box.replaceChildren();
      for (const p of open.values()) {
        const card = el("div", { class: "card" },
          el("h2", {}, p.count_id + " · " + term("count_kind", p.kind) + " · " + scopeText(p.scope)),
          el("p", {}, _("found {found} of {expected} · missing {missing} · misplaced {misplaced} · unknown tags {unknown} · sold or away yet read {away} · found again {recovered} · {reads} reads · {seconds} s",
            { found: p.found, expected: p.expected, missing: p.missing, misplaced: p.misplaced, unknown: p.unknown,
              away: p.away, recovered: p.recovered, reads: p.reads, seconds: p.elapsed_s })));
        for (const [loc, t] of Object.entries(p.locations)) {
          card.append(el("div", {}, el("span", { class: "mono" }, loc + " "),
            el("progress", { max: String(Math.max(t.expected, 1)), value: String(t.found) }),
            ` ${t.found} / ${t.expected}`));
        }
        const readers = Object.entries(p.readers).map(([d, r]) => d + (r.state === "dropped" ? " (" + _("dropped out") + ")" : ""));
        if (readers.length) card.append(el("p", { class: "muted" }, _("Readers: {readers}", { readers: readers.join(", ") })));
        if (p.unlocated_reads) card.append(el("p", { class: "error" },
          _("{n} reads came from a reader with no location: pick the location it sweeps.", { n: p.unlocated_reads })));
        if (p.last_rejection) card.append(el("p", { class: "muted" }, _("Last refused read: {why}", { why: p.last_rejection })));
        const sweep = el("form", { class: "filters" },
          el("label", {}, _("Handheld") + " ", el("input", { name: "device", size: "10", required: "" })),
          el("label", {}, _("sweeps") + " ", el("input", { name: "location", size: "12", required: "" })),
          el("button", { type: "submit" }, _("Set")));
        sweep.addEventListener("submit", (ev) => {
          ev.preventDefault();
          api("POST", `/api/v1/counts/${encodeURIComponent(p.count_id)}/sweep`,
            { device: sweep.device.value.trim(), location: sweep.location.value.trim() }).catch(fail);
        });
        card.append(sweep, el("div", { class: "actions" },
          el("button", { type: "button", onclick: () => showMissing(p.count_id) }, _("Missing so far")),
          el("button", { type: "button", class: "primary", onclick: () => close(p.count_id) }, _("Close count"))));
        box.append(card);
      }
    }
    function schedule() { if (!pending) { pending = true; requestAnimationFrame(renderOpen); } }

    async function showMissing(countId) {
      const data = await api("GET", `/api/v1/counts/${encodeURIComponent(countId)}/missing`).catch(fail);
      if (!data) return;
      const list = el("ul", {}, ...data.missing.map((m) =>
        el("li", {}, `${m.item_id} · ${m.description} · ${m.location} · ${L.fmt(m.tag_price, currency)}`)));
      $("count-result").replaceChildren(el("h2", {}, _("Not read yet ({n})", { n: data.total })), list);
    }

    async function close(countId) {
      const result = await api("POST", `/api/v1/counts/${encodeURIComponent(countId)}/close`, {}).catch(fail);
      if (!result) return;
      open.delete(countId); schedule(); showResult(result); loadRecent();
    }

    function showResult(c) {
      const r = c.result, box = $("count-result");
      const act = (path, label, done) => el("button", { type: "button", onclick: async () => {
        const out = await api("POST", `/api/v1/counts/${encodeURIComponent(c.count_id)}/${path}`, {}).catch(fail);
        if (out) box.append(el("p", {}, done(out)));
      } }, label);
      const changed = (out) => { const v = out.confirmed ?? out.moved ?? []; return Array.isArray(v) ? v.length : v; };
      box.replaceChildren(
        el("h2", {}, _("{count} closed: accuracy {accuracy}", { count: c.count_id, accuracy: pct(r.accuracy_bp) })),
        el("p", {}, _("expected {expected}, found {found}, in place {in_place}, unknown tags {unknown}",
          { expected: r.expected, found: r.found, in_place: r.in_place, unknown: r.unknown_total })),
        el("h3", {}, _("Missing ({n}), {value}", { n: r.missing.length, value: L.fmt(r.missing_value, currency) })),
        el("ul", {}, ...r.missing.map((m) => el("li", {}, `${m.item_id} · ${m.location} · ${term("category", m.category)}`))),
        // Held on a tray for an appointment: not missing, and not to be moved either.
        ...((r.held || []).length ? [el("h3", {}, _("On a tray ({n})", { n: r.held.length })),
          el("ul", {}, ...r.held.map((m) => el("li", {}, `${m.item_id} · ${m.where} · ${term("category", m.category)}`)))] : []),
        el("h3", {}, _("Misplaced ({n})", { n: r.misplaced.length })),
        el("ul", {}, ...r.misplaced.map((m) => el("li", {}, _("{item}: the books say {location}, read in {found}", { item: m.item_id, location: m.location, found: m.found_location })))),
        el("h3", {}, _("Sold, on memo or in repair, yet read ({n})", { n: r.away.length })),
        el("ul", {}, ...r.away.map((m) => el("li", {}, `${m.item_id} (${term("status", m.status)})`))),
        el("div", { class: "actions" },
          act("confirm-missing", _("Confirm missing"), (out) => _("Missing pieces confirmed: {n}", { n: changed(out) })),
          act("move-misplaced", _("Move misplaced where found"), (out) => _("Pieces moved: {n}", { n: changed(out) }))));
    }

    async function loadRecent() {
      const data = await api("GET", "/api/v1/counts").catch(fail); if (!data) return;
      for (const p of data.open) open.set(p.count_id, p);
      schedule();
      $("count-recent").replaceChildren(...data.recent.map((c) => el("tr", {},
        el("td", { "data-label": _("Count") }, c.count_id), el("td", { "data-label": _("Kind") }, term("count_kind", c.kind)),
        el("td", { "data-label": _("Status") }, term("count_status", c.status)),
        el("td", { "data-label": _("Scope") }, scopeText(c.scope)),
        ...[[_("Expected"), c.expected], [_("Found"), c.found], [_("Missing"), c.missing], [_("Misplaced"), c.misplaced],
          [_("Unknown"), c.unknown]].map(([label, n]) => el("td", { class: "num", "data-label": label }, n ?? "—")),
        el("td", { class: "num", "data-label": _("Accuracy") }, pct(c.accuracy_bp)))));
    }

    $("count-start").addEventListener("submit", async (ev) => {
      ev.preventDefault(); $("count-error").textContent = "";
      const scope = $("count-scope").value.split(",").map((s) => s.trim()).filter(Boolean);
      const p = await api("POST", "/api/v1/counts", { kind: $("count-kind").value, scope: scope.length ? scope : null }).catch(fail);
      if (p) { open.set(p.count_id, p); schedule(); }
    });
    // Progress comes a few times a second at most; drawing waits for the next frame.
    events((ev) => {
      if (ev.topic === "count.progress") { open.set(ev.data.count_id, ev.data); schedule(); }
      else if (ev.topic === "count.closed") { open.delete(ev.data.count_id); schedule(); loadRecent(); }
    });
    loadRecent();
  }

  // -- find a piece -------------------------------------------------------------------------
  function setupFind() {
    const form = $("find-form"); if (!form) return;
    let target = null;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); $("find-error").textContent = "";
      try {
        if (target) await api("DELETE", `/api/v1/find/${target.epc}`);
        target = await api("POST", "/api/v1/find", { piece: $("find-piece").value.trim() });
        $("find-target").textContent = target.item_id
          ? _("{item} · {description} · the books say {location}", { item: target.item_id, description: target.description, location: target.location })
          : _("tag {epc}", { epc: target.epc });
      } catch (e) { $("find-error").textContent = e.message; }
    });
    events((ev) => {
      if (ev.topic !== "count.find" || !target || ev.data.epc !== target.epc) return;
      const rssi = ev.data.rssi_cdbm;  // centi-dBm: about -8000 far away, -3000 in hand
      const level = rssi === null ? 0 : Math.max(0, Math.min(100, (rssi + 8000) / 50));
      $("find-gauge").value = level;
      $("find-reading").textContent = `${rssi === null ? "?" : (rssi / 100).toFixed(1)} dBm · ${ev.data.device}` +
        (ev.data.antenna ? " · " + _("antenna {n}", { n: ev.data.antenna }) : "");
    });
  }

  document.addEventListener("DOMContentLoaded", () => { setupCounts(); setupFind(); });
})();
