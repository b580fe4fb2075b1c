/* Counts screens: start a count, watch its progress live (count.progress on the WebSocket),
   close it and act on the result; follow one piece's signal (count.find). Text goes in with
   textContent only. */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const api = (...a) => window.loupe.api(...a);
  const pct = (bp) => (bp === null || bp === undefined) ? "—" : (bp / 100).toFixed(2) + " %";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

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
          el("h2", {}, p.count_id + " · " + p.kind + " · " + (p.scope ? p.scope.join(", ") : "whole store")),
          el("p", {}, `found ${p.found} of ${p.expected} · missing ${p.missing} · misplaced ${p.misplaced}` +
            ` · unknown tags ${p.unknown} · sold/away read ${p.away} · recovered ${p.recovered}` +
            ` · ${p.reads} reads · ${p.elapsed_s} s`));
        for (const [loc, t] of Object.entries(p.locations)) {
          card.append(el("div", {}, el("span", { class: "mono" }, loc + " "),
            el("progress", { max: String(Math.max(t.expected, 1)), value: String(t.found) }),
            ` ${t.found} / ${t.expected}`));
        }
        const readers = Object.entries(p.readers).map(([d, r]) => d + (r.state === "dropped" ? " (dropped)" : ""));
        if (readers.length) card.append(el("p", { class: "muted" }, "Readers: " + readers.join(", ")));
        if (p.unlocated_reads) card.append(el("p", { class: "error" },
          `${p.unlocated_reads} reads came from a reader with no location: pick the location it sweeps.`));
        if (p.last_rejection) card.append(el("p", { class: "muted" }, "Last refused read: " + p.last_rejection));
        const sweep = el("form", { class: "filters" },
          el("label", {}, "Handheld ", el("input", { name: "device", size: "10", required: "" })),
          el("label", {}, "sweeps ", el("input", { name: "location", size: "12", required: "" })),
          el("button", { type: "submit" }, "Set"));
        sweep.addEventListener("submit", (ev) => {
          ev.preventDefault();
          api("POST", `/api/v1/counts/${encodeURIComponent(p.count_id)}/sweep`,
            { device: sweep.device.value.trim(), location: sweep.location.value.trim() }).catch(fail);
        });
        card.append(sweep, el("div", { class: "actions" },
          el("button", { type: "button", onclick: () => showMissing(p.count_id) }, "Missing so far"),
          el("button", { type: "button", class: "primary", onclick: () => close(p.count_id) }, "Close count")));
        box.append(card);
      }
    }
    function schedule() { if (!pending) { pending = true; requestAnimationFrame(renderOpen); } }

    async function showMissing(countId) {
      const data = await api("GET", `/api/v1/counts/${encodeURIComponent(countId)}/missing`).catch(fail);
      if (!data) return;
      const list = el("ul", {}, ...data.missing.map((m) =>
        el("li", {}, `${m.item_id} · ${m.description} · ${m.location} · ${window.loupe.fmt(m.tag_price, currency)}`)));
      $("count-result").replaceChildren(el("h2", {}, `Not read yet (${data.total})`), list);
    }

    async function close(countId) {
      const result = await api("POST", `/api/v1/counts/${encodeURIComponent(countId)}/close`, {}).catch(fail);
      if (!result) return;
      open.delete(countId); schedule(); showResult(result); loadRecent();
    }

    function showResult(c) {
      const r = c.result, box = $("count-result");
      const act = (path, label) => el("button", { type: "button", onclick: async () => {
        const out = await api("POST", `/api/v1/counts/${encodeURIComponent(c.count_id)}/${path}`, {}).catch(fail);
        if (out) box.append(el("p", {}, label + ": " + JSON.stringify(out)));
      } }, label);
      box.replaceChildren(
        el("h2", {}, `${c.count_id} closed: accuracy ${pct(r.accuracy_bp)}`),
        el("p", {}, `expected ${r.expected}, found ${r.found}, in place ${r.in_place}, unknown tags ${r.unknown_total}`),
        el("h3", {}, `Missing (${r.missing.length}), ${window.loupe.fmt(r.missing_value, currency)}`),
        el("ul", {}, ...r.missing.map((m) => el("li", {}, `${m.item_id} · ${m.location} · ${m.category}`))),
        el("h3", {}, `Misplaced (${r.misplaced.length})`),
        el("ul", {}, ...r.misplaced.map((m) => el("li", {}, `${m.item_id}: books say ${m.location}, read in ${m.found_location}`))),
        el("h3", {}, `Sold, on memo or in repair, yet read (${r.away.length})`),
        el("ul", {}, ...r.away.map((m) => el("li", {}, `${m.item_id} (${m.status})`))),
        el("div", { class: "actions" }, act("confirm-missing", "Confirm missing"), act("move-misplaced", "Move misplaced where found")));
    }

    async function loadRecent() {
      const data = await api("GET", "/api/v1/counts").catch(fail); if (!data) return;
      for (const p of data.open) open.set(p.count_id, p);
      schedule();
      $("count-recent").replaceChildren(...data.recent.map((c) => el("tr", {},
        el("td", {}, c.count_id), el("td", {}, c.kind), el("td", {}, c.status),
        el("td", {}, c.scope ? c.scope.join(", ") : "whole store"),
        ...[c.expected, c.found, c.missing, c.misplaced, c.unknown].map((n) => el("td", { class: "num" }, n ?? "—")),
        el("td", { class: "num" }, pct(c.accuracy_bp)))));
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
          ? `${target.item_id} · ${target.description} · books say ${target.location}` : `tag ${target.epc}`;
      } catch (e) { $("find-error").textContent = e.message; }
    });
    events((ev) => {
      if (ev.topic !== "count.find" || !target || ev.data.epc !== target.epc) return;
      const rssi = ev.data.rssi_cdbm;  // centi-dBm: about -8000 far away, -3000 in hand
      const level = rssi === null ? 0 : Math.max(0, Math.min(100, (rssi + 8000) / 50));
      $("find-gauge").value = level;
      $("find-reading").textContent = `${rssi === null ? "?" : (rssi / 100).toFixed(1)} dBm · ${ev.data.device}` +
        (ev.data.antenna ? ` antenna ${ev.data.antenna}` : "");
    });
  }

  document.addEventListener("DOMContentLoaded", () => { setupCounts(); setupFind(); });
})();
