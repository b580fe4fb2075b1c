/* The follow-ups screen: a follow-up done, with how it went; then the screen again. */
"use strict";
(function () {
  const L = window.loupe;
  document.querySelectorAll("form.followup-done").forEach((form) => {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const id = form.closest("[data-followup-id]").dataset.followupId;
      const button = form.querySelector("button");
      button.disabled = true;
      document.getElementById("followup-error").textContent = "";
      try {
        await L.api("POST", "/api/v1/followups/" + encodeURIComponent(id) + "/done",
          { outcome: form.querySelector("select").value });
        location.reload();
      } catch (e) {
        document.getElementById("followup-error").textContent = e.message;
        button.disabled = false;
      }
    });
  });
})();
