/* Sync screen: live state and backlog (sync.state on the WebSocket), conflicts, holds and
   the stores holding a style. Text goes in with textContent only. */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const api = (...a) => window.loupe.api(...a);

  function row(tbody, cells) {
    const tr = document.createElement("tr");
    for (const c of cells) { const td = document.createElement("td"); td.textContent = c ?? ""; tr.append(td); }
    tbody.append(tr);
  }

  function showState(s) {
    $("sync-state").textContent = s.state;
    const total = Math.max(1, s.seq);
    $("sync-progress").max = total;
    $("sync-progress").value = Math.min(total, s.acked);
    $("sync-detail").textContent = `${s.acked} of ${s.seq} entries at HQ · backlog ${s.backlog}` +
      (s.connected ? " · connected" : " · not connected");
    $("sync-problem").textContent = s.problem || "";
  }

  async function refresh() {
    showState(await api("GET", "/api/v1/sync"));
    const c = $("sync-conflicts"); c.replaceChildren();
    for (const k of (await api("GET", "/api/v1/sync/conflicts")).conflicts)
      row(c, [k.seq, k.ts, k.kind, k.item_id, k.detail]);
    const h = $("sync-holds"); h.replaceChildren();
    for (const r of (await api("GET", "/api/v1/sync/reservations")).reservations)
      row(h, [r.reservation_id, r.item_id, r.client_id, r.pickup_by, r.status]);
  }

  function events() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/events");
    ws.onmessage = (m) => {
      const ev = JSON.parse(m.data);
      if (ev.topic === "sync.state") showState(ev.data);
      else if (ev.topic === "sync.conflict" || ev.topic === "journal.hq.conflict") refresh();
    };
    ws.onclose = (ev) => { if (ev.code !== 1008) setTimeout(events, 2000); };
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!$("sync-screen")) return;
    $("sync-style").addEventListener("submit", async (e) => {
      e.preventDefault();
      const out = $("sync-style-stores"); out.replaceChildren();
      const res = await api("GET", "/api/v1/sync/styles/" + encodeURIComponent($("sync-sku").value));
      for (const [store, count] of Object.entries(res.stores)) {
        const li = document.createElement("li"); li.textContent = `${store}: ${count}`; out.append(li);
      }
    });
    refresh().catch((e) => { $("sync-problem").textContent = e.message; });
    events();
  });
})();
