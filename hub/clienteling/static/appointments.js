/* Appointments: booking (the client picked by name), moving an appointment on, pulling
   pieces to its tray and closing it, printing the preparation list. Text goes in with
   textContent only; sentences come from the hub, in the store's words. */
"use strict";
(function () {
  const L = window.loupe;
  const $ = (id) => document.getElementById(id);
  const _ = L._;

  // Every problem of a refused form beside its field; the rest in `general`.
  function showProblems(form, e, general) {
    form.querySelectorAll("[data-error-for]").forEach((p) => { p.textContent = ""; });
    general.textContent = "";
    const body = (e && e.body) || {};
    const problems = body.problems && body.problems.length ? body.problems
      : (body.field ? [{ field: body.field, message: e.message }] : []);
    let placed = false;
    problems.forEach((p) => {
      const slot = form.querySelector('[data-error-for="' + CSS.escape(p.field) + '"]');
      if (slot) { slot.textContent = p.message; placed = true; }
    });
    if (!placed) general.textContent = e.message;
  }

  // -- the booking form ---------------------------------------------------------------------
  function setupBooking() {
    const form = $("book-form"); if (!form) return;
    const search = $("book-client-search"), results = $("book-client-results");
    let timer = null, asked = "";
    search.addEventListener("input", () => {
      $("book-client-id").value = ""; $("book-client-chosen").textContent = "";
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = search.value.trim(); asked = q;
        results.replaceChildren();
        if (q.length < 2) return;
        try {
          const r = await L.api("GET", "/api/v1/clients?limit=8&q=" + encodeURIComponent(q));
          if (asked !== q) return;  // a later search is on its way
          r.clients.forEach((c) => results.append(L.el("li", {}, L.el("span", {}, c.name),
            L.el("button", { type: "button", onclick: () => {
              $("book-client-id").value = c.client_id; search.value = c.name;
              $("book-client-chosen").textContent = _("Booking for {name}", { name: c.name });
              results.replaceChildren();
            } }, _("Choose")))));
          if (!r.clients.length) results.append(L.el("li", { class: "muted" }, _("No client found.")));
        } catch (e) { $("book-error").textContent = e.message; }
      }, 250);
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = $("book-submit"); button.disabled = true;
      const day = $("book-day").value, time = $("book-time").value;
      const body = { kind: $("book-kind").value, client_id: $("book-client-id").value,
        associate: $("book-associate").value, salon: $("book-salon").value,
        start: day && time ? day + "T" + time : "", duration_min: Number($("book-duration").value),
        note: $("book-note").value };
      try {
        const a = await L.api("POST", "/api/v1/appointments", body);
        location.href = "/appointments/" + encodeURIComponent(a.appointment_id);
      } catch (e) {
        showProblems(form, e, $("book-error"));
        button.disabled = false;
      }
    });
  }

  // -- one appointment: its stage and its tray ------------------------------------------------
  function setupAppointment() {
    const box = $("appointment"); if (!box) return;
    const id = box.dataset.appointmentId;
    const path = "/api/v1/appointments/" + encodeURIComponent(id);

    function showBack(r) {
      const list = $("tray-back-list"); list.replaceChildren();
      (r.back || []).forEach((p) => list.append(L.el("li", {}, L.el("strong", {}, p.item_id), " ",
        p.description || "", " → ", L.el("strong", {}, p.back_to))));
      if (!(r.back || []).length) list.append(L.el("li", { class: "muted" }, _("Nothing to put back.")));
      $("tray-back").hidden = false;
      const close = $("tray-close"); if (close) close.hidden = true;
    }

    document.querySelectorAll("[data-move]").forEach((button) => {
      button.addEventListener("click", async () => {
        $("move-error").textContent = "";
        button.disabled = true;
        try {
          const r = await L.api("POST", path + "/status", { move: button.dataset.move, note: $("move-note").value });
          if (r.tray_closed) { showBack(r.tray_closed); $("appointment-status").textContent = L.term("appointment_status", r.status); }
          else location.reload();
        } catch (e) { $("move-error").textContent = e.message; button.disabled = false; }
      });
    });

    async function pull(itemIds) {
      $("tray-error").textContent = "";
      const label = $("tray-label") ? $("tray-label").value.trim() : "";
      const body = { item_ids: itemIds }; if (label) body.tray = label;
      try { await L.api("POST", path + "/tray", body); location.reload(); return true; }
      catch (e) { $("tray-error").textContent = e.message; return false; }
    }
    const trayForm = $("tray-form");
    if (trayForm) trayForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const ids = $("tray-items").value.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
      if (!ids.length) { $("tray-error").textContent = _("Scan or type the serials of the pieces first."); return; }
      $("tray-pull").disabled = true;
      if (!(await pull(ids))) $("tray-pull").disabled = false;
    });
    const searchForm = $("tray-search");
    if (searchForm) searchForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const out = $("tray-search-results"); out.replaceChildren();
      try {
        const r = await L.api("GET", "/api/v1/items?status=in_stock&limit=20&q=" + encodeURIComponent($("tray-search-input").value.trim()));
        r.items.forEach((i) => out.append(L.el("li", {},
          L.el("span", {}, i.description, " ", L.el("small", { class: "muted" }, i.item_id + " · " + i.location)),
          L.el("button", { type: "button", onclick: () => pull([i.item_id]) }, _("Pull")))));
        if (!r.items.length) out.append(L.el("li", { class: "muted" }, _("Nothing in stock matches.")));
      } catch (e) { $("tray-error").textContent = e.message; }
    });
    const close = $("tray-close");
    if (close) close.addEventListener("click", async () => {
      close.disabled = true; $("tray-error").textContent = "";
      try { showBack(await L.api("POST", path + "/tray/close", {})); }
      catch (e) { $("tray-error").textContent = e.message; close.disabled = false; }
    });
  }

  // -- the preparation list ---------------------------------------------------------------------
  function setupPrep() {
    const box = $("prep"); if (!box) return;
    $("prep-print-page").addEventListener("click", () => window.print());
    const button = $("prep-print"); if (!button) return;
    button.addEventListener("click", async () => {
      $("prep-error").textContent = ""; button.disabled = true;
      try {
        await L.api("POST", "/api/v1/appointments/" + encodeURIComponent(box.dataset.appointmentId) + "/prep/print",
          { register: $("prep-register").value });
        L.toast(_("Sent to the receipt printer"));
      } catch (e) { $("prep-error").textContent = e.message; }
      button.disabled = false;
    });
  }

  setupBooking(); setupAppointment(); setupPrep();
})();
