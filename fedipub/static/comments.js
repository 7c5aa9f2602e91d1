// Progressive enhancement for the public pages: everything it touches works without it.
// Served from /static (the Content-Security-Policy allows no inline script) and loaded with
// `defer`, so the document is parsed when it runs.
//  1. Relative times ("3 hours ago") are written by the server when the page is made; a cached
//     page or a tab left open would show them ageing, so they are recounted every minute.
//  2. A "Copy" button beside each `code[data-copy]`: the article's address and the blog's
//     handle, the things a reader pastes into their instance's search.
//  3. The instance a reader typed into a "your instance or handle" form is remembered in this
//     browser (localStorage, never sent anywhere but with the form), so the next reply or
//     follow is one click.
"use strict";

(() => {
  // The units of fedipub/render_comments.py's _UNITS, largest first, in seconds.
  const UNITS = [
    [365 * 86400, "year"],
    [30 * 86400, "month"],
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];

  const timeAgo = (then, now) => {
    const seconds = (now - then) / 1000;
    for (const [size, unit] of UNITS) {
      if (seconds >= size) {
        const count = Math.floor(seconds / size);
        return `${count} ${unit}${count === 1 ? "" : "s"} ago`;
      }
    }
    return "just now";
  };

  const refreshTimes = () => {
    const now = Date.now();
    for (const time of document.querySelectorAll("time[data-relative]")) {
      const then = Date.parse(time.getAttribute("datetime"));
      if (!Number.isNaN(then)) {
        time.textContent = timeAgo(then, now);
      }
    }
  };

  const addCopyButtons = () => {
    // The clipboard API exists only on secure pages (https, or localhost).
    if (!navigator.clipboard || !window.isSecureContext) {
      return;
    }
    const status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    document.body.append(status);
    for (const code of document.querySelectorAll("code[data-copy]")) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "copy-button";
      button.textContent = code.classList.contains("handle") ? "Copy handle" : "Copy address";
      button.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(code.textContent.trim());
          status.textContent = `Copied ${code.textContent.trim()}`;
        } catch {
          status.textContent = "Could not copy: select the text and copy it instead.";
        }
      });
      code.after(button);
    }
  };

  const INSTANCE_KEY = "fedipub:instance";

  const rememberInstance = () => {
    let saved = null;
    try {
      saved = window.localStorage.getItem(INSTANCE_KEY);
    } catch {
      return; // storage disabled: the forms still work, they just start empty
    }
    for (const input of document.querySelectorAll("form.remote input[name=instance]")) {
      if (saved && !input.value) {
        input.value = saved;
      }
      input.form.addEventListener("submit", () => {
        try {
          window.localStorage.setItem(INSTANCE_KEY, input.value.trim());
        } catch {
          // Full or disabled: nothing to remember then.
        }
      });
    }
  };

  refreshTimes();
  setInterval(refreshTimes, 60 * 1000);
  addCopyButtons();
  rememberInstance();
})();
