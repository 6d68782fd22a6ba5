// The console's only script: countdowns, times in the reader's zone, live updates (SSE),
// and ISO times with offsets for the awareness form. The pages work without it.
(() => {
  "use strict";
  const body = document.body;
  // The server's clock (it may run fast in demos): its time at render, then our monotonic clock.
  const serverNow = Date.parse(body.dataset.now || "") || Date.now();
  const speed = parseFloat(body.dataset.speed || "1") || 1;
  const started = performance.now();
  const now = () => serverNow + (performance.now() - started) * speed;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const fmt = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
                                      {dateStyle: "medium", timeStyle: "short"});

  function localTimes(root) {
    for (const el of root.querySelectorAll("time[data-local]")) {
      el.title = el.dataset.utc || el.textContent;  // keep the UTC text on hover
      el.dataset.utc = el.title;
      el.textContent = fmt.format(new Date(el.getAttribute("datetime"))) + " (" + zone + ")";
    }
  }

  function span(ms) {
    let s = Math.floor(Math.abs(ms) / 1000);
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    return `${h} h ${String(m).padStart(2, "0")} min ${String(s).padStart(2, "0")} s`;
  }

  function tick() {
    for (const el of document.querySelectorAll(".countdown[data-deadline]")) {
      const left = Date.parse(el.dataset.deadline) - now();
      el.textContent = left >= 0 ? `${span(left)} ${body.dataset.left}` : `${body.dataset.overdueBy} ${span(left)}`;
      el.classList.toggle("overdue", left < 0);
    }
  }

  function isoForms(root) {
    for (const form of root.querySelectorAll("form[data-iso]")) {
      form.addEventListener("submit", () => {
        const local = form.querySelector("[data-local-input]").value;
        // The browser's zone → an instant with its offset; empty means "now" on the server.
        form.elements[form.dataset.iso].value = local ? new Date(local).toISOString() : "";
      });
    }
  }

  let touched = false;  // never replace a form someone is filling in
  document.addEventListener("input", () => { touched = true; });
  document.addEventListener("change", () => { touched = true; });  // a chosen file, a select

  // A <details> someone opened (a form to rename, dismiss, merge…) stays open across a live
  // refresh: it is found again by its id, else by its form's action, summary and hidden fields.
  function detailsKey(d) {
    if (d.id) return d.id;
    const form = d.querySelector("form");
    const summary = d.querySelector("summary");
    const hidden = [...d.querySelectorAll("input[type=hidden]:not([name=csrf_token])")]
      .map((i) => `${i.name}=${i.value}`);
    return [form ? form.getAttribute("action") : "", summary ? summary.textContent.trim() : "", ...hidden].join("|");
  }

  async function refresh(target, url, keepTyping) {
    const response = await fetch(url, {headers: {"Accept": "text/html"}, credentials: "same-origin"});
    if (!response.ok) return;
    const html = await response.text();
    // Someone started typing (or chose a file) while this was on its way: keep their form.
    if (keepTyping && touched) { document.getElementById("stale").hidden = false; return; }
    const opened = new Set([...target.querySelectorAll("details[open]")].map(detailsKey));
    target.innerHTML = html;
    for (const d of target.querySelectorAll("details")) if (opened.has(detailsKey(d))) d.open = true;
    localTimes(target); isoForms(target); tick();
    // Screen readers hear that the page changed (a polite, one-line status; not the whole table).
    const status = document.getElementById("live-status");
    if (status) status.textContent = `${status.dataset.text} ${new Date(now()).toLocaleTimeString()}`;
  }

  function live() {
    if (!window.EventSource) return;
    const rows = document.getElementById("rows");
    const detail = document.getElementById("detail");
    if (!rows && !detail) return;
    const indicator = document.getElementById("live");
    const source = new EventSource("/events");
    source.onopen = () => { indicator && indicator.classList.add("on"); };
    source.onerror = () => { indicator && indicator.classList.remove("on"); };
    const update = (changed) => {
      if (rows) {
        const query = new URLSearchParams(location.search); query.set("partial", "1");
        return refresh(rows, "/?" + query.toString());
      } else if (detail && (changed === null || changed.includes(detail.dataset.incident)
                            || changed.includes("*"))) {
        if (!touched) return refresh(detail, location.pathname + "?partial=1", true);
        else if (changed !== null) document.getElementById("stale").hidden = false;  // keep their typing
      }
      return Promise.resolve();
    };
    // On (re)connecting, catch up with whatever changed since the page was rendered; the page is
    // "live" once that catch-up is in place, not before: a form filled in meanwhile could be
    // replaced under the hand that fills it (a chosen file lost in the browser tests).
    source.addEventListener("hello", () => {
      update(null).catch(() => {}).finally(() => { body.dataset.live = "1"; });
    });
    source.addEventListener("incidents", (e) => update(JSON.parse(e.data)));
  }

  localTimes(document); isoForms(document); tick(); live();
  setInterval(tick, 1000);
})();
