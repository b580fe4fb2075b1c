// Devices panel: refresh states, demo scan and sweep. Text nodes only (no innerHTML).
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  async function post(path, body) {
    const r = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body || {}),
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.detail || r.statusText);
    return data;
  }

  function cell(text) { const td = document.createElement("td"); td.textContent = text || ""; return td; }

  async function refresh() {
    const r = await fetch("/api/v1/devices", { credentials: "same-origin" });
    if (!r.ok) return;
    const data = await r.json();
    const body = document.querySelector("#devices tbody");
    body.replaceChildren(...data.devices.map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.device = d.device;
      const state = document.createElement("span");
      state.className = "status s-" + d.state;
      state.textContent = d.state;
      const st = document.createElement("td");
      st.append(state);
      tr.append(cell(d.device), cell(d.kind.replace("_", " ")), cell(d.model), cell(d.register),
                st, cell(d.error || d.last_problem || (d.reads ? d.reads + " reads" : "")));
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

  function toast(text) {
    const t = document.getElementById("toast");
    if (!t) return;
    t.textContent = text; t.hidden = false;
    setTimeout(() => { t.hidden = true; }, 3000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const scan = document.getElementById("demo-scan");
    if (scan) scan.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(scan);
      try { await post("/api/v1/devices/demo/scan", { register: f.get("register"), code: f.get("code") }); toast("Scanned " + f.get("code")); }
      catch (e) { toast(e.message); }
    });
    const sweep = document.getElementById("demo-sweep");
    if (sweep) sweep.addEventListener("click", async () => {
      try { const r = await post("/api/v1/devices/demo/sweep"); toast("Sweep: " + r.tags + " tags in range"); }
      catch (e) { toast(e.message); }
    });
    setInterval(refresh, 2000);
  });
})();
