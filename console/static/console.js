// ecsd console: actions and live updates. Plain JavaScript, no build step.
"use strict";
(function () {
  const body = document.body;
  const watch = body.dataset.watch || "";
  const watchID = body.dataset.id || "";
  const live = document.getElementById("live");
  const toastEl = document.getElementById("toast");
  let toastTimer = 0;

  function toast(msg, bad) {
    toastEl.textContent = msg;
    toastEl.className = "toast" + (bad ? " bad" : "");
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastEl.hidden = true; }, bad ? 9000 : 4000);
  }

  // api calls a console endpoint and returns its JSON; a failure throws an
  // Error whose message is the server's explanation.
  async function api(method, path, payload) {
    const opts = { method, headers: { "Accept": "application/json", "X-Ecsd-Console": "1" }, credentials: "same-origin" };
    if (payload !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(payload);
    }
    const res = await fetch(path, opts);
    if (res.status === 204) return {};
    let data = {};
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) {
      const err = data.error || {};
      const e = new Error((err.code ? err.code + ": " : "") + (err.message || ("HTTP " + res.status)));
      e.code = err.code;
      throw e;
    }
    return data;
  }

  // ---- live regions: re-render the page's [data-live] sections in place.
  let refreshing = false, again = false;
  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const res = await fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      for (const next of doc.querySelectorAll("[data-live][id]")) {
        const cur = document.getElementById(next.id);
        if (!cur || cur.innerHTML === next.innerHTML) continue;
        const focusKey = keyOf(document.activeElement, cur);
        cur.replaceWith(document.adoptNode(next));
        if (focusKey) {
          const el = document.querySelector(focusKey);
          if (el) el.focus();
        }
      }
      document.dispatchEvent(new CustomEvent("console:refreshed"));
    } catch (e) {
      /* network hiccup: the next event retries */
    } finally {
      refreshing = false;
      if (again) { again = false; refresh(); }
    }
  }

  // keyOf returns a selector finding el again after its region is replaced.
  function keyOf(el, region) {
    if (!el || !region.contains(el)) return "";
    if (el.id) return "#" + CSS.escape(el.id);
    if (el.dataset.action && el.dataset.server) return `[data-action="${el.dataset.action}"][data-server="${el.dataset.server}"]`;
    if (el.dataset.resize) return `[data-resize="${el.dataset.resize}"]`;
    if (el.dataset.deleteRule) return `[data-delete-rule="${el.dataset.deleteRule}"]`;
    return "";
  }

  function relevant(kind, d) {
    if (kind === "resync") return true;
    switch (watch) {
      case "servers": return kind === "server";
      case "server": return (kind === "server" && d.id === watchID) || (kind === "job" && d.server_id === watchID);
      // A job that starts and ends between two polls shows only as a
      // change of its server.
      case "jobs": return kind === "job" || kind === "server";
      case "job": return (kind === "job" && (d.id === watchID || d.parent_id === watchID)) || kind === "server";
      case "clock": return kind === "clock";
      case "faults": return kind === "faults";
    }
    return false;
  }

  const listeners = [];
  function onEvent(fn) { listeners.push(fn); }

  if (watch && window.EventSource) {
    const es = new EventSource("/console/events");
    // hello comes once the server watches for changes on this stream:
    // catch up on what changed before.
    es.addEventListener("hello", () => {
      live.textContent = "live";
      live.classList.add("on");
      refresh();
    });
    es.addEventListener("error", () => {
      live.textContent = "reconnecting…";
      live.classList.remove("on");
    });
    for (const kind of ["server", "job", "clock", "faults", "resync"]) {
      es.addEventListener(kind, (ev) => {
        let d = {};
        try { d = JSON.parse(ev.data); } catch (e) { return; }
        if (relevant(kind, d)) refresh();
        for (const fn of listeners) fn(kind, d);
      });
    }
  }

  // ---- server actions.
  document.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("button[data-action]");
    if (!btn) return;
    const action = btn.dataset.action, id = btn.dataset.server, name = btn.dataset.name || id;
    if (action === "delete" && !confirm(`Delete server ${name}? Its volumes are deleted too.`)) return;
    btn.disabled = true;
    try {
      const r = await api("POST", `/console/api/servers/${encodeURIComponent(id)}/action`, { action });
      toast(`${action} ${name}: accepted, job ${r.job_id.slice(0, 8)}`);
      refresh();
    } catch (e) {
      toast(e.message, true);
      btn.disabled = false;
    }
  });

  // ---- create form.
  const createForm = document.getElementById("create-form");
  if (createForm) {
    createForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(createForm);
      const out = document.getElementById("create-result");
      out.className = "form-result";
      out.textContent = "Creating…";
      try {
        const r = await api("POST", "/console/api/servers", {
          project_id: f.get("project_id"), name: f.get("name"), flavor_id: f.get("flavor_id"),
          image_id: f.get("image_id"), availability_zone: f.get("availability_zone"),
          count: parseInt(f.get("count"), 10) || 1,
        });
        out.innerHTML = "";
        out.append("Accepted: job ");
        const a = document.createElement("a");
        a.href = "/console/jobs/" + r.job_id;
        a.textContent = r.job_id.slice(0, 8);
        out.append(a, ` creates ${r.server_ids.length} server(s).`);
        refresh();
      } catch (e) {
        out.className = "form-result error-text";
        out.textContent = e.message;
      }
    });
  }

  // ---- resize dialog.
  const dlg = document.getElementById("resize-dialog");
  if (dlg) {
    const $ = (id) => document.getElementById(id);
    let server = null, opts = null, checked = "", jobID = "";

    const selected = () => { const r = dlg.querySelector('input[name="resize-flavor"]:checked'); return r ? r.value : ""; };
    const withStop = () => opts && opts.needs_stop && $("resize-withstop").checked;
    const setResult = (msg, bad) => { $("resize-result").textContent = msg; $("resize-result").className = bad ? "error-text" : ""; };
    const updateButtons = () => {
      const sel = selected();
      const blocked = !opts || !!opts.blocked || jobID !== "";
      $("resize-dry").disabled = blocked || !sel || (opts.needs_stop && !$("resize-withstop").checked);
      $("resize-submit").disabled = blocked || !sel || checked !== sel + "|" + withStop();
    };

    async function open(id, name) {
      server = id; opts = null; checked = ""; jobID = "";
      $("resize-title").textContent = "Change the flavor of " + name;
      $("resize-summary").textContent = "Loading the flavors this server may change to…";
      $("resize-options").innerHTML = "";
      $("resize-refused-list").innerHTML = "";
      $("resize-refused-count").textContent = "0";
      $("resize-blocked").hidden = true;
      $("resize-withstop-wrap").hidden = true;
      $("resize-withstop").checked = false;
      $("resize-job").hidden = true;
      setResult("");
      updateButtons();
      dlg.showModal();
      try {
        opts = await api("GET", `/console/api/servers/${encodeURIComponent(id)}/resize`);
      } catch (e) {
        $("resize-summary").textContent = "";
        setResult(e.message, true);
        return;
      }
      const f = opts.flavor;
      $("resize-summary").textContent = `${opts.name} is ${opts.status} with ${f.id} (${f.vcpus} vCPU, ${f.ram_mb / 1024} GiB) in ${opts.availability_zone}. ` +
        `${opts.allowed.length} flavors allowed, ${opts.refused.length} refused.`;
      if (opts.blocked) { $("resize-blocked").textContent = opts.blocked; $("resize-blocked").hidden = false; }
      $("resize-withstop-wrap").hidden = !opts.needs_stop;
      const box = $("resize-options");
      if (opts.allowed.length === 0) box.textContent = "No flavor: this server cannot change flavor.";
      for (const a of opts.allowed) {
        const label = document.createElement("label");
        const input = document.createElement("input");
        input.type = "radio"; input.name = "resize-flavor"; input.value = a.id;
        label.append(input, ` ${a.id} `);
        const s = document.createElement("span");
        s.className = "muted"; s.textContent = `${a.vcpus} vCPU · ${a.ram_mb / 1024} GiB`;
        label.append(s);
        box.append(label);
      }
      const list = $("resize-refused-list");
      for (const r of opts.refused) {
        const li = document.createElement("li");
        const c = document.createElement("code");
        c.textContent = r.id;
        li.append(c, " — " + r.reason + " ");
        const code = document.createElement("span");
        code.className = "muted"; code.textContent = "(" + r.code + ")";
        li.append(code);
        li.dataset.flavor = r.id;
        list.append(li);
      }
      $("resize-refused-count").textContent = String(opts.refused.length);
      updateButtons();
      const first = box.querySelector("input");
      if (first) first.focus();
    }

    dlg.addEventListener("change", () => { setResult(""); updateButtons(); });

    $("resize-dry").addEventListener("click", async () => {
      const sel = selected();
      setResult("Checking…");
      try {
        const r = await api("POST", `/console/api/servers/${encodeURIComponent(server)}/resize`, { flavor_id: sel, with_stop: withStop(), dry_run: true });
        checked = sel + "|" + withStop();
        setResult(r.message);
      } catch (e) {
        checked = "";
        setResult("Dry run refused: " + e.message, true);
      }
      updateButtons();
      if (!$("resize-submit").disabled) $("resize-submit").focus();
    });

    $("resize-submit").addEventListener("click", async () => {
      const sel = selected();
      $("resize-submit").disabled = true;
      try {
        const r = await api("POST", `/console/api/servers/${encodeURIComponent(server)}/resize`, { flavor_id: sel, with_stop: withStop(), dry_run: false });
        jobID = r.job_id;
        setResult(`Resize to ${sel} accepted.`);
        $("resize-job").hidden = false;
        $("resize-job-id").textContent = jobID.slice(0, 8);
        $("resize-job-link").href = "/console/jobs/" + jobID;
        updateButtons();
        follow();
      } catch (e) {
        setResult("Resize refused: " + e.message, true);
        checked = "";
        updateButtons();
      }
    });

    // follow renders the job; SSE events about the job or its server call it
    // again until the job ends.
    let following = false, followAgain = false;
    async function follow() {
      if (!jobID) return;
      if (following) { followAgain = true; return; }
      following = true;
      try {
        const j = await api("GET", "/console/api/jobs/" + jobID);
        const st = $("resize-job-status");
        st.textContent = j.status;
        st.className = "badge " + ({ SUCCESS: "ok", FAIL: "bad" }[j.status] || "busy");
        $("resize-job-phase").textContent = j.status === "SUCCESS" || j.status === "FAIL" ? "" : (j.phase || "");
        const steps = $("resize-job-steps");
        steps.innerHTML = "";
        for (const p of j.progress) {
          const li = document.createElement("li");
          li.className = "step " + p.state;
          li.textContent = p.phase;
          li.setAttribute("aria-label", p.phase + ": " + p.state);
          steps.append(li);
        }
        const err = $("resize-job-error");
        err.hidden = !j.error_code;
        err.textContent = j.error_code ? `${j.error_code}: ${j.fail_reason}` : "";
        if (j.status === "SUCCESS" || j.status === "FAIL") {
          dlg.dataset.done = j.status;
          refresh();
        }
      } catch (e) {
        /* retried on the next event */
      } finally {
        following = false;
        if (followAgain) { followAgain = false; follow(); }
      }
    }
    onEvent((kind, d) => {
      if (!jobID || dlg.dataset.done) return;
      if ((kind === "job" && d.id === jobID) || (kind === "server" && d.id === server) || kind === "resync") follow();
    });

    $("resize-close").addEventListener("click", () => dlg.close());
    dlg.addEventListener("close", () => {
      delete dlg.dataset.done;
      jobID = "";
      refresh();
    });

    document.addEventListener("click", (ev) => {
      const btn = ev.target.closest("button[data-resize]");
      if (btn) open(btn.dataset.resize, btn.dataset.name || btn.dataset.resize);
    });
  }

  // ---- clock.
  function tickClock() {
    const t = document.getElementById("clock-now");
    if (!t) return;
    if (!t.dataset.base) t.dataset.base = String(Date.now());
    const ms = Number(t.dataset.ms), speed = Number(t.dataset.speed);
    const now = t.dataset.paused === "true" ? ms : ms + (Date.now() - Number(t.dataset.base)) * speed;
    t.textContent = new Date(now).toISOString().replace("T", " ").slice(0, 19);
  }
  if (document.getElementById("clock-now")) setInterval(tickClock, 250);

  async function clockChange(payload) {
    const out = document.getElementById("clock-result");
    try {
      await api("POST", "/console/api/clock", payload);
      out.className = ""; out.textContent = "Done.";
      refresh();
    } catch (e) {
      out.className = "error-text"; out.textContent = e.message;
    }
  }
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-clock]");
    if (b) clockChange(JSON.parse(b.dataset.clock));
  });
  const speedForm = document.getElementById("clock-speed-form");
  if (speedForm) speedForm.addEventListener("submit", (ev) => { ev.preventDefault(); clockChange({ speed: Number(new FormData(speedForm).get("speed")) }); });
  const advForm = document.getElementById("clock-advance-form");
  if (advForm) advForm.addEventListener("submit", (ev) => { ev.preventDefault(); clockChange({ advance: String(new FormData(advForm).get("advance")) }); });

  // ---- fault rules.
  const faultForm = document.getElementById("fault-form");
  if (faultForm) {
    const ta = document.getElementById("fault-json"), out = document.getElementById("fault-result");
    faultForm.addEventListener("click", (ev) => {
      const b = ev.target.closest("button[data-example]");
      if (b) { ta.value = b.dataset.example; ta.focus(); }
    });
    faultForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      let rule;
      try { rule = JSON.parse(ta.value); } catch (e) {
        out.className = "error-text"; out.textContent = "The rule is not valid JSON: " + e.message; return;
      }
      try {
        const r = await api("POST", "/console/api/faults", rule);
        out.className = ""; out.textContent = "Added rule " + r.id + ".";
        refresh();
      } catch (e) {
        out.className = "error-text"; out.textContent = e.message;
      }
    });
  }
  document.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-delete-rule]");
    if (!b) return;
    try {
      await api("DELETE", "/console/api/faults/" + encodeURIComponent(b.dataset.deleteRule));
      toast("Rule deleted.");
      refresh();
    } catch (e) { toast(e.message, true); }
  });
})();
