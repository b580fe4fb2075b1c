/* The follow-ups screen and the client's contact log: a follow-up done (with how it went) or
   put off until a day, a contact logged; then the screen again, so it shows what is true. */
"use strict";
(function () {
  const L = window.loupe;

  function send(form, errorId, call) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button[type=submit]");
      const error = document.getElementById(errorId);
      button.disabled = true;
      error.textContent = "";
      try {
        await call();
        location.reload();
      } catch (e) {
        error.textContent = e.message;
        button.disabled = false;
      }
    });
  }

  const path = (form) => "/api/v1/followups/" +
    encodeURIComponent(form.closest("[data-followup-id]").dataset.followupId);
  document.querySelectorAll("form.followup-done").forEach((form) => send(form, "followup-error",
    () => L.api("POST", path(form) + "/done", { outcome: form.querySelector("select").value })));
  document.querySelectorAll("form.followup-snooze").forEach((form) => send(form, "followup-error",
    () => L.api("POST", path(form) + "/snooze", { until: form.querySelector("input").value })));
  const log = document.getElementById("contact-log-form");
  if (log) {
    send(log, "contact-log-error", () => L.api("POST", "/api/v1/clients/" +
      encodeURIComponent(log.dataset.clientId) + "/contacts", {
      outcome: log.querySelector("select").value, note: log.querySelector("input").value }));
  }
})();
(function () {
  const button = document.getElementById("callsheet-print");
  if (!button) return;
  const _ = window.loupe._;
  button.addEventListener("click", async () => {
    const error = document.getElementById("followup-error");
    button.disabled = true;
    error.textContent = "";
    try {
      await window.loupe.api("POST", "/api/v1/followups/callsheet/print",
        { associate: button.dataset.associate || null });
      window.loupe.toast(_("The call sheet is printing."));
    } catch (e) {
      error.textContent = e.message;
    }
    button.disabled = false;
  });
})();
(function () {
  const whose = document.querySelector("#followups-associate select");
  if (whose) whose.addEventListener("change", () => whose.form.submit());
})();
