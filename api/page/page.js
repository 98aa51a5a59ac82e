// The incident page: polls the API (/v1/status every second, /v1/events every
// half second, /v1/history every five) and draws services, endpoints, history
// and the timeline. Every piece of data goes into the DOM as text (textContent,
// attributes of our own choosing): nothing from zones or probes is ever parsed
// as HTML. The write token lives in sessionStorage only.
"use strict";

(function () {
  const TOKEN_KEY = "signpost-token";
  const EVENTS_KEPT = 300;
  const state = {
    status: null, statusText: "", history: null, events: [], lastSeq: 0,
    lastStatusAt: 0, lastHistoryAt: 0, lastRenderAt: 0, pending: null, statusDirty: true, eventsShown: false,
  };

  // ---- DOM helpers: text only ----
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function token() { try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; } }
  function setToken(t) {
    try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
    showTokenState();
    render();
  }
  function showTokenState() {
    const on = token() !== "";
    $("token-form").hidden = on;
    $("token-on").hidden = !on;
  }

  async function getJSON(path) {
    const r = await fetch(path, { cache: "no-store", credentials: "omit" });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
    return body;
  }
  async function postJSON(path, body) {
    const r = await fetch(path, {
      method: "POST", cache: "no-store", credentials: "omit",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token() },
      body: JSON.stringify(body),
    });
    const out = await r.json().catch(() => ({}));
    if (r.status === 401) setToken("");
    if (!r.ok) throw new Error(out.error || ("HTTP " + r.status));
    return out;
  }

  // ---- time ----
  function clock(ms) {
    const d = new Date(ms);
    const p = (n) => String(n).padStart(2, "0");
    return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }
  function ago(iso) {
    const t = Date.parse(iso);
    if (!iso || isNaN(t)) return "";
    let s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min ago";
    return Math.floor(s / 86400) + " d ago";
  }

  // ---- classification (colours only; the words come from the server) ----
  function labelClass(svc) {
    const label = svc.label || "";
    if (svc.all_down || label === "all-down") return "bad";
    if (label === "") return "unknown";
    if (label.startsWith("failover:")) return "warn";
    return "ok";
  }
  function answering(svc, pool) {
    const label = svc.label || "";
    if (label === pool.name || label.endsWith(":" + pool.name)) return true;
    return (label === "weighted" || label === "multivalue") && pool.up;
  }
  function stateClass(s) { return s === "up" ? "ok" : s === "down" ? "bad" : "unknown"; }
  function bandClass(kind, firstPool, s) {
    if (kind === "endpoint") return s === "up" ? "band-up" : s === "down" ? "band-down" : "band-unknown";
    if (s === "all-down") return "band-down";
    if (s === "" || s === "unknown") return "band-unknown";
    if (s.startsWith("failover:") || (firstPool && s !== firstPool && s.indexOf(":") < 0 && s !== "weighted" && s !== "multivalue"))
      return "band-warn";
    return "band-up";
  }

  // ---- history: up/down bands and a latency sparkline ----
  function historyView(key, kind, firstPool) {
    const box = el("div", "hist");
    const h = state.history;
    const series = h && h.series ? h.series[key] : null;
    if (!series) return box;
    // The last hour, or since the server started when that is shorter (at least ten seconds).
    const W = 120, H = 10, start = h.start_ms, window = Math.max(h.now_ms - start, 1);
    const bands = svg("svg", { class: "bands", width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
    const title = svg("title", {});
    title.textContent = key + ": " + kind + " state since " + clock(start);
    bands.appendChild(title);
    bands.appendChild(svg("rect", { x: 0, y: 0, width: W, height: H, class: "band-unknown" }));
    series.bands.forEach((b, i) => {
      const from = Math.max(b.from_ms, start);
      const to = i + 1 < series.bands.length ? series.bands[i + 1].from_ms : h.now_ms;
      const x = ((from - start) / window) * W, w = Math.max(((to - from) / window) * W, 0.5);
      bands.appendChild(svg("rect", { x: x.toFixed(2), y: 0, width: w.toFixed(2), height: H, class: bandClass(kind, firstPool, b.state) }));
    });
    box.appendChild(bands);
    if (series.latency.length > 0) {
      const max = Math.max(1, ...series.latency.map((b) => b.max_ms));
      const spark = svg("svg", { class: "spark", width: W, height: 16, viewBox: "0 0 " + W + " 16", role: "img" });
      const t = svg("title", {});
      const last = series.latency[series.latency.length - 1];
      t.textContent = "probe latency, last hour (avg per " + Math.round(h.bucket_ms / 1000) + " s; now " +
        last.avg_ms.toFixed(1) + " ms, max " + max.toFixed(1) + " ms)";
      spark.appendChild(t);
      const pts = series.latency.map((b) => {
        const x = ((b.start_ms + h.bucket_ms / 2 - start) / window) * W;
        const y = 15 - (b.avg_ms / max) * 14;
        return Math.min(Math.max(x, 0), W).toFixed(1) + "," + y.toFixed(1);
      });
      if (pts.length === 1) pts.push((W).toFixed(1) + "," + pts[0].split(",")[1]);
      spark.appendChild(svg("polyline", { points: pts.join(" "), class: "spark-line" }));
      box.appendChild(spark);
    }
    return box;
  }

  // ---- actions (write token only) ----
  function askReason(title, run) {
    $("action-title").textContent = title;
    $("action-reason").value = "";
    $("action-error").textContent = "";
    $("action").hidden = false;
    $("action-reason").focus();
    state.pending = run;
  }
  function closeAction() { $("action").hidden = true; state.pending = null; }
  function flash(text, bad) {
    const f = $("flash");
    f.textContent = text;
    f.className = bad ? "flash error" : "flash";
    f.hidden = false;
  }
  function button(text, cls, onclick) {
    const b = el("button", cls, text);
    b.type = "button";
    b.addEventListener("click", onclick);
    return b;
  }
  function endpointControls(ep) {
    const td = el("td", "controls");
    const key = ep.key;
    const override = (state, words) => askReason(words, (reason) =>
      postJSON("/v1/overrides", { target: key, state: state, reason: reason }));
    if (ep.override.state !== "down")
      td.appendChild(button("Force down", "act-down", () => override("down", "Force " + key + " down")));
    if (ep.override.state !== "up")
      td.appendChild(button("Force up", "act-up", () => override("up", "Force " + key + " up")));
    if (ep.override.state !== "auto")
      td.appendChild(button("Undo override", "act-auto", () => override("auto", "Give " + key + " back to the probes")));
    if (ep.drain && ep.drain.draining)
      td.appendChild(button("Undrain", "act-undrain", () => askReason("Put " + key + " back in answers", (reason) =>
        postJSON("/v1/drain", { endpoint: key, undrain: true, reason: reason }))));
    else
      td.appendChild(button("Drain", "act-drain", () => askReason("Drain " + key + " (take it out of answers)", (reason) =>
        postJSON("/v1/drain", { endpoint: key, reason: reason }))));
    return td;
  }

  // ---- services ----
  function endpointRow(ep, writable) {
    const tr = el("tr", "endpoint");
    tr.dataset.endpoint = ep.key;
    const name = el("td", "ep-name");
    name.appendChild(el("div", "", ep.name && ep.name !== ep.address ? ep.name + " " + ep.address : ep.address));
    tr.appendChild(name);
    const st = el("td", "ep-state-cell");
    const badge = el("span", "badge ep-state " + stateClass(ep.state), ep.state);
    st.appendChild(badge);
    if (ep.override && ep.override.state !== "auto")
      st.appendChild(el("span", "mark ep-override", "override: " + ep.override.state +
        (ep.override.reason ? " (" + ep.override.reason + ")" : "")));
    if (ep.drain && ep.drain.draining) st.appendChild(el("span", "mark ep-drain", ep.drain.drained ? "drained" : "draining"));
    if (ep.suspect) st.appendChild(el("span", "mark", "suspect"));
    tr.appendChild(st);
    const res = el("td", "result ep-result", ep.last_result || "");
    if (ep.reason && ep.reason !== ep.last_result) res.appendChild(el("div", "muted ep-reason", ep.reason));
    tr.appendChild(res);
    tr.appendChild(el("td", "ep-latency", ep.checks_run ? ep.latency_ms.toFixed(1) + " ms" : "–"));
    const since = el("td", "ep-since", ago(ep.since));
    since.title = ep.since || "";
    tr.appendChild(since);
    const hist = el("td");
    hist.appendChild(historyView(ep.key, "endpoint"));
    tr.appendChild(hist);
    if (writable) tr.appendChild(endpointControls(ep));
    return tr;
  }

  function serviceCard(svc, endpoints, writable) {
    const card = el("div", "service");
    card.dataset.service = svc.key;
    const head = el("div", "service-head");
    head.appendChild(el("span", "service-name", svc.key));
    head.appendChild(el("span", "badge svc-label " + labelClass(svc), svc.label || "not evaluated"));
    head.appendChild(el("span", "muted svc-ttl", "TTL " + svc.ttl + " s"));
    head.appendChild(el("span", "muted", svc.policy + (svc.failback ? ", failback " + svc.failback : "")));
    const since = el("span", "muted svc-since", svc.since ? "since " + ago(svc.since) : "");
    since.title = svc.since || "";
    head.appendChild(since);
    if (svc.unstable) head.appendChild(el("span", "mark", "unstable: short TTL"));
    if (svc.released) head.appendChild(el("span", "mark", "released"));
    const firstPool = svc.pools.length ? svc.pools[0].name : "";
    head.appendChild(historyView(svc.key, "service", firstPool));
    if (writable && svc.failback !== "auto")
      head.appendChild(button("Release (fail back)", "act-release", () => askReason("Release " + svc.key +
        " (let it fail back)", (reason) => postJSON("/v1/release", { service: svc.key, reason: reason }))));
    card.appendChild(head);
    card.appendChild(el("div", "reason svc-reason", svc.reason || ""));
    for (const pool of svc.pools) {
      const p = el("div", "pool" + (answering(svc, pool) ? " answering" : ""));
      p.dataset.pool = pool.name;
      p.appendChild(el("div", "pool-head", pool.name + " · " + pool.healthy + " of " + pool.endpoints + " up"));
      const table = el("table");
      const thead = el("thead");
      const hr = el("tr");
      for (const h of ["endpoint", "state", "last result", "latency", "since", "history"]) hr.appendChild(el("th", "", h));
      if (writable) hr.appendChild(el("th", "", "actions"));
      thead.appendChild(hr);
      table.appendChild(thead);
      const tbody = el("tbody");
      for (const ep of endpoints)
        if (ep.zone === svc.zone && ep.pool === pool.name) tbody.appendChild(endpointRow(ep, writable));
      table.appendChild(tbody);
      p.appendChild(table);
      card.appendChild(p);
    }
    return card;
  }

  function render() {
    const s = state.status;
    if (!s) return;
    const box = $("services");
    clear(box);
    const writable = token() !== "";
    if (!s.services.length) box.appendChild(el("p", "muted", "no services"));
    for (const svc of s.services) box.appendChild(serviceCard(svc, s.endpoints, writable));
    const r = s.reload;
    $("reload").textContent = r ? (r.ok ? "config loaded " + ago(r.at) : "last reload FAILED: " + (r.errors || []).join("; ")) : "";
    $("reload").className = r && !r.ok ? "error" : "muted";
  }

  // ---- timeline ----
  function eventText(e) {
    const subject = e.endpoint || (e.service ? e.zone + "/" + e.service : e.zone);
    let t = subject ? subject + ": " : "";
    if (e.from || e.to) t += (e.from ? e.from + " → " : "") + e.to;
    if (e.reason) t += (e.from || e.to ? " — " : "") + e.reason;
    return t;
  }
  function renderEvents() {
    const list = $("events");
    clear(list);
    if (!state.events.length) list.appendChild(el("li", "muted", "nothing yet"));
    for (let i = state.events.length - 1; i >= 0; --i) {
      const e = state.events[i];
      const li = el("li", "ev " + e.level);
      li.dataset.kind = e.kind;
      li.dataset.seq = e.seq;
      const time = el("span", "time", clock(e.time_ms));
      time.title = e.time;
      li.appendChild(time);
      li.appendChild(el("span", "kind", e.kind));
      li.appendChild(el("span", "text", eventText(e)));
      list.appendChild(li);
    }
  }

  // ---- explain ----
  async function explain(ev) {
    ev.preventDefault();
    const out = $("explain-out");
    clear(out);
    const name = $("explain-name").value.trim();
    if (!name) return;
    const q = new URLSearchParams({ name: name, type: $("explain-type").value });
    const client = $("explain-client").value.trim();
    if (client) q.set("client", client);
    try {
      const x = await getJSON("/v1/explain?" + q.toString());
      const box = el("div", "explain-result");
      box.appendChild(el("div", "explain-q", x.name + " " + x.type + (x.client ? " from " + x.client : "") +
        (x.rcode ? " → " + x.rcode : "")));
      if (x.service) box.appendChild(el("div", "explain-service", "service " + x.service + " (" + x.policy + "): " +
        x.label + ", TTL " + x.ttl + " s"));
      if (x.answer && x.answer.length) {
        box.appendChild(el("div", "muted", "answer"));
        const ul = el("ol", "explain-answer");
        for (const a of x.answer) ul.appendChild(el("li", "", a));
        box.appendChild(ul);
      }
      box.appendChild(el("div", "muted", "rule path"));
      const ol = el("ol", "explain-path");
      for (const p of x.path || []) ol.appendChild(el("li", "", p));
      box.appendChild(ol);
      out.appendChild(box);
    } catch (e) {
      out.appendChild(el("p", "error", e.message));
    }
  }

  // ---- polling ----
  function connected(ok, why) {
    const c = $("conn");
    c.textContent = ok ? "live · " + clock(Date.now()) : "disconnected: " + why + " (retrying)";
    c.className = ok ? "conn ok" : "conn bad";
  }
  async function pollEvents() {
    const r = await getJSON("/v1/events?since=" + state.lastSeq);
    if (r.last_seq < state.lastSeq) state.events = [];  // the server restarted: its numbering too
    if (r.events.length) {
      state.events = state.events.concat(r.events).slice(-EVENTS_KEPT);
      state.statusDirty = true;
    }
    state.lastSeq = r.last_seq;
    if (r.events.length || !state.eventsShown) { renderEvents(); state.eventsShown = true; }
  }
  async function pollStatus() {
    const now = Date.now();
    if (now - state.lastHistoryAt >= 5000 || state.statusDirty) {
      try {
        const h = await getJSON("/v1/history");
        let first = h.now_ms;
        for (const k of Object.keys(h.series)) {
          const s = h.series[k];
          if (s.bands.length) first = Math.min(first, s.bands[0].from_ms);
          if (s.latency.length) first = Math.min(first, s.latency[0].start_ms);
        }
        h.start_ms = Math.min(Math.max(first, h.now_ms - h.window_ms), h.now_ms - 10000);
        state.history = h;
      } catch (e) { state.history = null; }
      state.lastHistoryAt = now;
    }
    const s = await getJSON("/v1/status");
    state.lastStatusAt = now;
    state.statusDirty = false;
    const text = JSON.stringify(s);
    if (text !== state.statusText || now - state.lastRenderAt >= 5000) {
      state.status = s;
      state.statusText = text;
      state.lastRenderAt = now;
      render();
    }
  }
  async function tick() {
    try {
      await pollEvents();
      if (state.statusDirty || Date.now() - state.lastStatusAt >= 1000) await pollStatus();
      connected(true);
    } catch (e) {
      connected(false, e.message);
    }
    setTimeout(tick, 500);
  }

  function start() {
    $("token-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const t = $("token").value.trim();
      $("token").value = "";
      if (t) setToken(t);
    });
    $("token-forget").addEventListener("click", () => setToken(""));
    $("action-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const reason = $("action-reason").value.trim();
      if (!reason) { $("action-error").textContent = "a reason is needed"; return; }
      const run = state.pending;
      if (!run) return;
      try {
        const r = await run(reason);
        closeAction();
        flash(r.message || "done", false);
        state.statusDirty = true;
      } catch (e) {
        $("action-error").textContent = e.message;
      }
    });
    $("action-cancel").addEventListener("click", closeAction);
    $("explain-form").addEventListener("submit", explain);
    showTokenState();
    tick();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
