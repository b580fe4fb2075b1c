// Devices panel: refresh states, demo scan and sweep. Text nodes only (no innerHTML).
(function () {
  "use strict";
  const L = () => window.loupe;
  const _ = (...a) => L()._(...a), term = (...a) => L().term(...a);

  function cell(text, label) {
    const td = document.createElement("td"); td.textContent = text || "";
    if (label) td.dataset.label = label;
    return td;
  }

  async function refresh() {
    let data;
    try { data = await L().api("GET", "/api/v1/devices"); } catch (e) { return; }
    const body = document.querySelector("#devices tbody");
    body.replaceChildren(...data.devices.map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.device = d.device;
      const state = document.createElement("span");
      state.className = "status s-" + d.state;
      state.textContent = term("device_state", d.state);
      const st = cell("", _("State"));
      st.append(state);
      tr.append(cell(d.device, _("Device")), cell(term("device_kind", d.kind), _("Kind")), cell(d.model, _("Model")),
                cell(d.register, _("Register")), st,
                cell(d.error || d.last_problem || (d.reads ? _("{n} reads", { n: d.reads }) : ""), _("Detail")));
      return tr;
    }));
    const receipts = document.getElementById("receipts");
    const entries = Object.entries(data.last_receipts);
    if (entries.length) {
      receipts.replaceChildren(...entries.map(([reg, rec]) => {
        const fig = document.createElement("figure");
        const cap = document.createElement("figcaption");
        cap.textContent = reg + " · " + rec.sale_id;
        const pre = document.createElement("pre");
        pre.className = "receipt-text";
        pre.textContent = rec.text;
        fig.append(cap, pre);
        return fig;
      }));
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const scan = document.getElementById("demo-scan");
    if (scan) scan.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(scan);
      try {
        await L().api("POST", "/api/v1/devices/demo/scan", { register: f.get("register"), code: f.get("code") });
        L().toast(_("Scanned {code}", { code: f.get("code") }));
      } catch (e) { L().toast(e.message, true); }
    });
    const sweep = document.getElementById("demo-sweep");
    if (sweep) sweep.addEventListener("click", async () => {
      try {
        const r = await L().api("POST", "/api/v1/devices/demo/sweep");
        L().toast(_("Sweep: {n} tags in range", { n: r.tags }));
      } catch (e) { L().toast(e.message, true); }
    });
    setInterval(refresh, 2000);
  });
})();
