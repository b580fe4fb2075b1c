/* Sync screen: live state and backlog (sync.state on the WebSocket), conflicts, holds, online
   orders to ship and the stores holding a style. Text goes in with textContent only. */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const L = () => window.loupe;
  const api = (...a) => L().api(...a), _ = (...a) => L()._(...a), term = (...a) => L().term(...a);
  const when = (ts) => (ts ? new Date(ts).toLocaleString(document.documentElement.lang || undefined,
    { dateStyle: "medium", timeStyle: "short" }) : "");

  function row(tbody, cells) {
    const tr = document.createElement("tr");
    for (const [label, c] of cells) {
      const td = document.createElement("td"); td.textContent = c ?? ""; td.dataset.label = label; tr.append(td);
    }
    tbody.append(tr);
  }

  function showState(s) {
    $("sync-state").textContent = term("sync_state", s.state);
    const total = Math.max(1, s.seq);
    $("sync-progress").max = total;
    $("sync-progress").value = Math.min(total, s.acked);
    $("sync-detail").textContent = _("{acked} of {seq} entries at head office · {backlog} to send", { acked: s.acked, seq: s.seq, backlog: s.backlog }) +
      " · " + (s.connected ? _("connected") : _("not connected"));
    $("sync-problem").textContent = s.problem || "";
  }

  async function refresh() {
    showState(await api("GET", "/api/v1/sync"));
    const c = $("sync-conflicts"); c.replaceChildren();
    for (const k of (await api("GET", "/api/v1/sync/conflicts")).conflicts)
      row(c, [[_("Entry"), k.seq], [_("When"), when(k.ts)], [_("Kind"), String(k.kind).replace(/_/g, " ")], [_("Piece"), k.item_id], [_("Detail"), k.detail]]);
    const h = $("sync-holds"); h.replaceChildren();
    for (const r of (await api("GET", "/api/v1/sync/reservations")).reservations)
      row(h, [[_("Reservation"), r.reservation_id], [_("Piece"), r.item_id], [_("Client"), r.client_id], [_("Pick up by"), r.pickup_by],
        [_("Status"), String(r.status).replace(/_/g, " ")]]);
  }

  // Online orders to ship: each a form (scan the piece, the carrier's number), sold when sent.
  async function showOrders() {
    const box = $("sync-orders");
    if (!box) return;  // not for this role
    const cur = $("sync-screen").dataset.currency;
    const { orders } = await api("GET", "/api/v1/sync/orders?status=to_ship");
    box.replaceChildren();
    $("sync-orders-none").hidden = orders.length > 0;
    for (const o of orders) {
      const form = $("sync-order").content.firstElementChild.cloneNode(true);
      const f = (name) => form.querySelector(`[data-f="${name}"]`);
      f("order").textContent = _("Online order {order}", { order: o.order_id });
      f("piece").textContent = _("piece {item}", { item: o.item_id });
      f("paid").textContent = _("paid online {amount}", { amount: L().fmt(o.paid, o.currency || cur) });
      f("ship_by").textContent = _("Ship by {when}", { when: when(o.ship_by) });
      const to = o.ship_to;
      f("ship_to").textContent = to ? [to.name, to.line1, to.line2, [to.postcode, to.city].join(" "), to.country, to.phone]
        .filter(Boolean).join("\n") : _("The address was erased with the client's data.");
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const data = Object.fromEntries(new FormData(form));
        try {
          await api("POST", "/api/v1/sync/orders/" + encodeURIComponent(o.order_id) + "/ship", data);
          L().toast(_("Online order {order} shipped and sold.", { order: o.order_id }));
          await showOrders();
        } catch (err) { f("problem").textContent = err.message; }
      });
      box.append(form);
    }
  }

  function events() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/events");
    ws.onmessage = (m) => {
      const ev = JSON.parse(m.data);
      if (ev.topic === "sync.state") showState(ev.data);
      else if (ev.topic === "sync.conflict" || ev.topic === "journal.hq.conflict") refresh();
      else if (ev.topic === "journal.hq.message" || ev.topic === "journal.hq.online_order") showOrders().catch(() => {});
    };
    ws.onclose = (ev) => { if (ev.code !== 1008) setTimeout(events, 2000); };
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!$("sync-screen")) return;
    $("sync-style").addEventListener("submit", async (e) => {
      e.preventDefault();
      const out = $("sync-style-stores"); out.replaceChildren();
      try {
        const res = await api("GET", "/api/v1/sync/styles/" + encodeURIComponent($("sync-sku").value));
        for (const [store, count] of Object.entries(res.stores)) {
          const li = document.createElement("li"); li.textContent = _("{store}: {n}", { store, n: count }); out.append(li);
        }
        if (!Object.keys(res.stores).length) out.append(Object.assign(document.createElement("li"), { textContent: _("No other store holds it.") }));
      } catch (err) { $("sync-problem").textContent = err.message; }
    });
    refresh().catch((e) => { $("sync-problem").textContent = e.message; });
    showOrders().catch((e) => { $("sync-problem").textContent = e.message; });
    events();
  });
})();
