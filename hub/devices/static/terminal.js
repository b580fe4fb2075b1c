// The sales floor's card terminal: "Pay on the terminal" sends what is due to the
// register's terminal; its statuses (insert the card, PIN...) show live, then the outcome.
(function () {
  "use strict";
  const L = window.loupe;
  const $ = (id) => document.getElementById(id);
  L.onFloor((floor) => {
    const panel = $("terminal-floor"); if (!panel) return;
    const status = $("terminal-status"), error = $("terminal-error"), button = $("terminal-pay");
    let paying = null;
    const say = (text) => { status.textContent = text || ""; };
    // Only a register with a terminal shows the button.
    async function look() {
      try {
        const t = await L.api("GET", "/api/v1/registers/" + encodeURIComponent(floor.register()) + "/terminal");
        panel.hidden = false;
        button.disabled = t.terminal.state !== "connected" || t.terminal.busy;
        say(t.terminal.state === "connected" ? "" : L._("The terminal is not connected: a card typed by hand needs a manager."));
      } catch (e) { panel.hidden = true; }
    }
    function listen() {
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/events");
      ws.onmessage = (m) => {
        const ev = JSON.parse(m.data);
        if (ev.data.register !== floor.register()) return;
        if (ev.topic === "device.terminal") say(ev.data.message);
        else if (ev.topic === "device.alert" && ev.data.alert === "terminal_reversal_failed") L.toast(ev.data.message, true);
        else if (ev.topic === "device.state" && ev.data.kind === "terminal") look();
      };
      ws.onclose = (ev) => { if (ev.code !== 1008) setTimeout(listen, 2000); };
    }
    button.addEventListener("click", async () => {
      const cart = floor.cart() || {};
      if (!(cart.due > 0)) { error.textContent = L._("Nothing is due."); return; }
      error.textContent = ""; button.disabled = true; paying = cart.due;
      say(L._("Sent to the terminal: follow it there"));
      try {
        const r = await L.api("POST", floor.cartPath() + "/terminal", { amount: paying });
        say(r.message);
        if (r.cart) floor.reload();
      } catch (e) { error.textContent = e.message; say(""); }
      finally { paying = null; look(); }
    });
    listen(); look();
  });
})();
