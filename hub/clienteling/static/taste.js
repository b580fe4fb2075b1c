/* A client's wish list: a piece or a style added, a wish taken off; then the page again. */
"use strict";
(function () {
  const L = window.loupe;
  const panel = document.getElementById("panel-wishlist");
  if (!panel) return;
  const path = "/api/v1/clients/" + encodeURIComponent(panel.dataset.clientId) + "/wishlist";
  const error = document.getElementById("wish-error");
  const form = document.getElementById("wish-add");
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button");
      const body = {};
      for (const name of ["item_id", "style", "for_client_id"]) {
        const input = form.elements[name];
        if (input && input.value.trim()) body[name] = input.value.trim();
      }
      button.disabled = true;
      error.textContent = "";
      try {
        await L.api("POST", path, body);
        location.reload();
      } catch (e) {
        error.textContent = e.message;
        button.disabled = false;
      }
    });
  }
  panel.querySelectorAll("button.wish-remove").forEach((button) => {
    button.addEventListener("click", async () => {
      const id = button.closest("[data-entry-id]").dataset.entryId;
      button.disabled = true;
      error.textContent = "";
      try {
        await L.api("DELETE", path + "/" + encodeURIComponent(id));
        location.reload();
      } catch (e) {
        error.textContent = e.message;
        button.disabled = false;
      }
    });
  });
})();
