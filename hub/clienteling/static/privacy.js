/* A client's data exported for her (the file downloads, encrypted), and her erasure. */
"use strict";
(function () {
  const L = window.loupe;
  const _ = L._;
  const error = document.getElementById("client-privacy-error");
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  const exportForm = document.getElementById("client-export-form");
  if (exportForm) {
    exportForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      const button = exportForm.querySelector("button");
      button.disabled = true;
      try {
        const res = await fetch("/api/v1/clients/" + encodeURIComponent(exportForm.dataset.clientId) + "/export", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
          body: JSON.stringify({ format: exportForm.elements.format.value,
                                 passphrase: exportForm.elements.passphrase.value }) });
        if (!res.ok) {
          let body = {};
          try { body = await res.json(); } catch (e) { body = {}; }
          throw new Error(body.detail || _("The hub did not answer as expected; try again."));
        }
        const name = (/filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "") || [])[1];
        const link = document.createElement("a");
        link.href = URL.createObjectURL(await res.blob());
        link.download = name || "export";
        document.body.appendChild(link);
        link.click();
        link.remove();
        exportForm.elements.passphrase.value = "";
        L.toast(_("Her data is exported. Give her the passphrase separately."));
      } catch (e) {
        error.textContent = e.message;
      }
      button.disabled = false;
    });
  }

  const eraseForm = document.getElementById("client-erase-form");
  if (eraseForm) {
    eraseForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      try {
        await L.api("POST", "/api/v1/clients/" + encodeURIComponent(eraseForm.dataset.clientId) + "/erase",
          { confirm: eraseForm.elements.confirm.value });
        location.reload();
      } catch (e) {
        error.textContent = e.message;
      }
    });
  }
})();
(function () {
  /* Possible duplicates: keep one record, merge the other into it (asked once more). */
  const L = window.loupe;
  const _ = L._;
  document.querySelectorAll("button.merge-keep").forEach((button) => {
    button.addEventListener("click", async () => {
      const error = document.getElementById("client-privacy-error");
      error.textContent = "";
      if (!window.confirm(_("Merge these two records into one? This cannot be undone."))) return;
      try {
        const done = await L.api("POST", "/api/v1/clients/merge",
          { keep: button.dataset.keep, merge: button.dataset.merge });
        location.assign("/clients/" + encodeURIComponent(done.client_id));
      } catch (e) {
        error.textContent = e.message;
      }
    });
  });
})();
(function () {
  /* A manager gives an associate's book to another. */
  const L = window.loupe;
  const form = document.getElementById("reassign-form");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const error = document.getElementById("client-privacy-error");
    error.textContent = "";
    try {
      await L.api("POST", "/api/v1/clients/reassign",
        { from_staff: form.dataset.from, to_staff: form.elements.to_staff.value });
      location.assign("/clients/books?associate=" + encodeURIComponent(form.elements.to_staff.value));
    } catch (e) {
      error.textContent = e.message;
    }
  });
})();
(function () {
  /* A list for an event: exported encrypted (the file downloads) or printed. */
  const L = window.loupe;
  const _ = L._;
  const form = document.getElementById("list-export");
  if (!form) return;
  const ask = JSON.parse(form.dataset.ask || "{}");
  const error = document.getElementById("client-privacy-error");
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try {
      const res = await fetch("/api/v1/clients/lists/export", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify(Object.assign({}, ask, { passphrase: form.elements.passphrase.value })) });
      if (!res.ok) {
        let body = {};
        try { body = await res.json(); } catch (e) { body = {}; }
        throw new Error(body.detail || _("The hub did not answer as expected; try again."));
      }
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await res.blob());
      link.download = "client-list.csv.age";
      document.body.appendChild(link);
      link.click();
      link.remove();
      form.elements.passphrase.value = "";
      L.toast(_("The list is exported, encrypted."));
    } catch (e) {
      error.textContent = e.message;
    }
  });
  const print = document.getElementById("list-print");
  if (print) {
    print.addEventListener("click", async () => {
      error.textContent = "";
      try {
        await L.api("POST", "/api/v1/clients/lists/print", ask);
        L.toast(_("The list is printing."));
      } catch (e) {
        error.textContent = e.message;
      }
    });
  }
})();
