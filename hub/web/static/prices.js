/* The rates screen: a manager accepts a rate move held beyond the band, and the tags of
   pieces whose price moved are printed in one go. The page is rendered by the hub in the
   store's words; this script sends the buttons to the API and reloads. */
"use strict";
(function () {
  document.addEventListener("DOMContentLoaded", () => {
    const L = window.loupe;
    if (!L || !document.getElementById("rates")) return;
    const _ = L._;
    document.querySelectorAll(".accept-rate").forEach((button) => {
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await L.api("POST", "/api/v1/prices/held/" + encodeURIComponent(button.dataset.message) + "/accept", {});
          L.toast(_("The rates apply: the pieces follow."));
          window.location.reload();
        } catch (e) { L.toast(e.message, true); button.disabled = false; }
      });
    });
    const print = document.getElementById("print-tags");
    if (print) print.addEventListener("click", async () => {
      const error = document.getElementById("print-tags-error");
      error.textContent = ""; print.disabled = true;
      try {
        const r = await L.api("POST", "/api/v1/prices/tags/print", {});
        L.toast(_("{n} tags printed", { n: r.printed.length }));
        window.location.reload();
      } catch (e) { error.textContent = e.message; print.disabled = false; }
    });
  });
})();
