/* The Transfers screen: the scan box (a scanner types the serial and Enter, as on the other
   screens) ships what is to be sent and receives what is on its way; the request form asks
   for a transfer; a call-off button. After each change the page's lists are swapped for the
   hub's fresh ones. Text goes in with textContent only. */
"use strict";
(function () {
  const L = window.loupe;
  const $ = (id) => document.getElementById(id);
  const _ = L._;
  const LISTS = ["tr-to-send", "tr-asked", "tr-in-transit", "tr-expected", "tr-received", "tr-conflicts"];

  async function refresh() {
    const res = await fetch(location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    LISTS.forEach((id) => { const mine = $(id), theirs = doc.getElementById(id); if (mine && theirs) mine.replaceWith(document.importNode(theirs, true)); });
    bindCancels();
  }
  function say(text, bad) {
    const box = $("tr-result"); box.textContent = text; box.className = bad ? "error" : "";
    if (bad) L.toast(text, true); else L.clearToast();
  }
  function bindCancels() {
    document.querySelectorAll("button[data-cancel]").forEach((b) => b.addEventListener("click", async () => {
      b.disabled = true;
      try { await L.api("POST", "/api/v1/transfers/" + encodeURIComponent(b.dataset.cancel) + "/cancel"); say(_("Transfer called off."), false); await refresh(); }
      catch (e) { say(e.message, true); b.disabled = false; }
    }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const scan = $("tr-scan-form"); if (!scan) return;
    const input = $("tr-scan-input");
    scan.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const code = input.value.trim(); if (!code) return;
      try {
        const r = await L.api("POST", "/api/v1/transfers/scan", { code });
        const t = r.transfer;
        if (r.done === "shipped") say(_("Piece {item_id} shipped to {store}: it is on its way.", { item_id: t.item_id, store: t.to_store }), false);
        else if (t.status === "misdelivered") say(_("Piece {item_id} received here, but it was sent to {store}: head office is told.", { item_id: t.item_id, store: t.to_store }), true);
        else say(_("Piece {item_id} received from {store}: it is in stock here.", { item_id: t.item_id, store: t.from_store }), false);
        input.value = "";
        await refresh();
      } catch (e) { say(e.message, true); input.select(); }
      input.focus();
    });
    const ask = $("tr-request-form");
    ask.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const item_id = $("tr-item").value.trim(), store = $("tr-store").value.trim();
      const way = ask.querySelector('input[name="way"]:checked').value;
      const body = way === "send" ? { item_id, to_store: store } : { item_id, from_store: store };
      try {
        await L.api("POST", "/api/v1/transfers", body);
        say(way === "send" ? _("Piece {item_id} is to be sent to {store}: scan it when it is packed.", { item_id, store })
                           : _("Asked {store} for piece {item_id}: head office passes it on.", { item_id, store }), false);
        ask.reset();
        await refresh();
      } catch (e) { say(e.message, true); }
    });
    bindCancels();
    input.focus();
  });
})();
