// The supervisor wall: one socket to /ws/supervisor; `welcome` and each
// `wall` event carry the whole picture (queues, agents, history), which is
// applied in place. Between messages the clocks keep ticking from the
// message's `at`, on the server's clock.
import { h, setText } from "../common/dom.js";
import { clock, label, percent, timeOfDay, waitText } from "../common/format.js";
import { HubSocket, wsUrl } from "../common/socket.js";
import { WaitingChart } from "./chart.js";
import { CallMonitor } from "./monitor.js";

const STATE_ORDER = ["busy", "reserved", "wrap_up", "available", "away", "offline"];
const STATE_LABELS = {
  busy: "On a call", reserved: "Ringing", wrap_up: "Wrap-up", available: "Available", away: "Away", offline: "Offline",
};
const DEFAULT_SERVICE_LEVEL_GOAL = 0.8; // the classic "80% within the target time"
const STALE_AFTER = 12; // s without a wall message before the page says so

const $ = (selector) => document.querySelector(selector);
const socket = new HubSocket(wsUrl("/ws/supervisor"));
// Live calls (listen, whisper, barge) listen to this socket themselves (monitor.js).
new CallMonitor({ socket, root: document.querySelector(".wall") });
const chart = new WaitingChart($("[data-chart]"));

let latest = null; // the last welcome / wall message
let receivedAt = 0; // local ms when it came
const tiles = new Map(); // queue name -> {element, fields}
const rows = new Map(); // agent id -> {element, fields}

// -- queues --------------------------------------------------------------------

function metric(testid, labelText, { main = false } = {}) {
  const value = h("span", { class: "value", dataset: { testid } }, "—");
  return { value, element: h("div", { class: `metric${main ? " main" : ""}` }, value, h("span", { class: "label" }, labelText)) };
}

function buildTile(queue) {
  const f = {};
  const waiting = metric("waiting", "waiting now", { main: true });
  const longest = metric("longest-wait", "longest wait");
  const estimated = metric("estimated-wait", "est. wait, new request");
  f.waiting = waiting.value;
  f.longest = longest.value;
  f.estimated = estimated.value;
  f.title = h("h2", {}, queue.title || queue.name);
  f.staffed = h("span", { class: "staffed muted", dataset: { testid: "staffed" } });
  f.serviceLevel = h("span", { class: "sl-value", dataset: { testid: "service-level" } }, "—");
  f.target = h("span", { class: "muted sl-target", dataset: { testid: "service-level-target" } });
  f.slFill = h("span", { class: "sl-fill" });
  f.slMark = h("span", { class: "sl-mark", title: "Goal" });
  const today = (testid, term, title = null) => {
    f[testid] = h("dd", { dataset: { testid } }, "—");
    return [h("dt", {}, title ? h("abbr", { title }, term) : term), f[testid]];
  };
  const element = h("article", { class: "tile card", dataset: { testid: `wall-queue-${queue.name}`, queue: queue.name }, "aria-labelledby": `tile-${queue.name}` },
    h("header", {}, f.title, f.staffed),
    h("div", { class: "metrics" }, waiting.element, longest.element, estimated.element),
    h("div", { class: "sl" },
      h("div", { class: "sl-line" }, h("span", {}, "Service level "), f.serviceLevel, f.target),
      h("span", { class: "sl-bar", "aria-hidden": "true" }, f.slFill, f.slMark)),
    h("dl", { class: "today" },
      today("offered", "Offered"), today("inbound", "Phoned in", "Of those offered, calls that came in on the phone"),
      today("answered", "Answered"), today("abandoned", "Abandoned"),
      today("abandon-rate", "Aband. %", "Abandon rate"), today("asa", "ASA", "Average speed of answer")));
  f.title.id = `tile-${queue.name}`;
  return { element, f };
}

/** An estimated wait for a tile: "< 1 min", "~3 min", "~1 h 5 min"; null -> "—". */
function compactWait(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
  if (seconds < 60) return "< 1 min";
  return `~${waitText(seconds).replace(/^about /, "")}`;
}

/** A fraction (0..1), or a percentage when above 1, as 0..100. */
function asPercent(value) {
  if (value === null || value === undefined || !isFinite(value)) return null;
  return value > 1 ? value : value * 100;
}

function renderQueues(queues) {
  const box = $("[data-tiles]");
  box.querySelector(".loading")?.remove();
  const names = new Set(queues.map((queue) => queue.name));
  for (const [name, tile] of tiles) {
    if (!names.has(name)) {
      tile.element.remove();
      tiles.delete(name);
    }
  }
  queues.forEach((queue) => {
    let tile = tiles.get(queue.name);
    if (!tile) {
      tile = buildTile(queue);
      tiles.set(queue.name, tile);
    }
    box.append(tile.element); // keeps the server's order
    const { f } = tile;
    setText(f.title, queue.title || queue.name);
    setText(f.waiting, String(queue.waiting ?? 0));
    setText(f.estimated, compactWait(queue.estimated_wait));
    setText(f.staffed, `${queue.agents_staffed ?? 0} staffed · ${queue.agents_available ?? 0} available`);
    setText(f.offered, String(queue.offered ?? 0));
    setText(f.inbound, String(queue.inbound ?? 0));
    setText(f.answered, String(queue.answered ?? 0));
    setText(f.abandoned, String(queue.abandoned ?? 0));
    setText(f["abandon-rate"], percent(queue.abandon_rate));
    setText(f.asa, queue.average_speed_of_answer === null || queue.average_speed_of_answer === undefined ? "—" : clock(queue.average_speed_of_answer));

    // service_level: the share answered within service_level_target seconds;
    // coloured against the goal (service_level_goal, else the usual 80%).
    const level = asPercent(queue.service_level);
    const goal = asPercent(queue.service_level_goal ?? DEFAULT_SERVICE_LEVEL_GOAL);
    const within = queue.service_level_target;
    setText(f.serviceLevel, percent(queue.service_level));
    setText(f.target, [
      typeof within === "number" ? ` answered within ${Math.round(within)} s` : "",
      ` · goal ${Math.round(goal)}%`,
    ].join(""));
    f.slFill.style.width = `${level ?? 0}%`;
    f.slMark.style.left = `${goal}%`;
    const slState = level === null ? "none" : level >= goal ? "ok" : level >= goal - 10 ? "warn" : "bad";
    tile.element.dataset.sl = slState;
    const abandonRate = asPercent(queue.abandon_rate);
    f["abandon-rate"].dataset.level = abandonRate === null ? "none" : abandonRate > 10 ? "bad" : abandonRate > 5 ? "warn" : "ok";
  });
}

// -- agents --------------------------------------------------------------------

function buildRow(agent) {
  const f = {
    name: h("span", { class: "agent-name" }),
    state: h("span", { class: "state-pill", dataset: { testid: "agent-state" } }),
    reason: h("span", { class: "muted reason", dataset: { testid: "agent-reason" } }),
    time: h("td", { class: "time", dataset: { testid: "agent-time" } }),
    skills: h("td", { class: "skills" }),
  };
  const element = h("tr", { dataset: { testid: `agent-${agent.username || agent.id}`, agentId: agent.id } },
    h("th", { scope: "row" }, f.name),
    h("td", {}, f.state, " ", f.reason),
    f.time,
    f.skills);
  return { element, f };
}

function renderAgents(agents, queues) {
  const body = $("[data-agent-rows]");
  body.querySelector(".empty")?.remove();
  const ids = new Set(agents.map((agent) => agent.id));
  for (const [id, row] of rows) {
    if (!ids.has(id)) {
      row.element.remove();
      rows.delete(id);
    }
  }
  const sorted = [...agents].sort((a, b) =>
    (STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state)) ||
    String(a.display_name || "").localeCompare(String(b.display_name || "")));
  for (const agent of sorted) {
    let row = rows.get(agent.id);
    if (!row) {
      row = buildRow(agent);
      rows.set(agent.id, row);
    }
    row.agent = agent;
    body.append(row.element);
    const { f } = row;
    setText(f.name, agent.display_name || agent.username || agent.id);
    f.state.dataset.state = agent.state;
    row.element.dataset.state = agent.state;
    setText(f.state, STATE_LABELS[agent.state] || label(agent.state));
    setText(f.reason, agent.state === "away" && agent.reason ? agent.reason : "");
    const titles = (agent.skills || []).map((skill) => queues.find((queue) => queue.name === skill)?.title || skill);
    setText(f.skills, titles.join(", "));
  }
  if (!agents.length) body.append(h("tr", { class: "empty" }, h("td", { colspan: "4", class: "muted" }, "No agents signed in.")));

  const counts = STATE_ORDER.map((state) => [state, agents.filter((agent) => agent.state === state).length]).filter(([, n]) => n);
  $("[data-state-counts]").replaceChildren(...counts.map(([state, n]) =>
    h("li", { class: "state-pill", dataset: { state, testid: `count-${state}` } }, `${n} ${STATE_LABELS[state] || label(state)}`)));
}

// -- ticking ---------------------------------------------------------------------

/** The server's time now, seconds. */
function now() {
  return socket.serverNow();
}

function tick() {
  if (!latest) return;
  // Seconds since the figures were computed by the server.
  const elapsed = Math.max(0, now() - (latest.at ?? now()));
  for (const queue of latest.queues || []) {
    const tile = tiles.get(queue.name);
    if (!tile) continue;
    const longest = queue.waiting && queue.longest_wait !== null && queue.longest_wait !== undefined ? queue.longest_wait + elapsed : null;
    setText(tile.f.longest, longest === null ? "—" : clock(longest));
    tile.element.dataset.wait = longest === null ? "none" : longest > 180 ? "bad" : longest > 60 ? "warn" : "ok";
  }
  for (const row of rows.values()) {
    const since = row.agent?.since;
    setText(row.f.time, since ? clock(now() - since) : "—");
  }
  const age = (Date.now() - receivedAt) / 1000;
  const updated = $("[data-updated]");
  updated.classList.toggle("stale", age > STALE_AFTER);
  setText(updated, age > STALE_AFTER ? `No update for ${Math.round(age)} s` : `Updated ${timeOfDay(latest.at)}`);
}

// -- the hub's messages ------------------------------------------------------------

function apply(message) {
  latest = message;
  receivedAt = Date.now();
  const queues = message.queues || [];
  renderQueues(queues);
  renderAgents(message.agents || [], queues);
  chart.update(message);
  tick();
}

socket.on("welcome", apply);
socket.on("wall", apply);

socket.onState((state, detail) => {
  const indicator = $("[data-testid=connection]");
  indicator.dataset.state = state === "idle" ? "connecting" : state;
  setText(indicator.querySelector("[data-connection-text]"), {
    idle: "Connecting…", connecting: "Connecting…", open: "Live", reconnecting: "Reconnecting…",
    closed: detail.reason === "unauthorized" ? "Signed out" : detail.reason === "forbidden" ? "Not allowed" : "Disconnected",
  }[state]);
  if (state === "closed" && detail.reason === "unauthorized") {
    setTimeout(() => location.assign(`/login?next=${encodeURIComponent(location.pathname)}`), 1500);
  }
});

setInterval(tick, 1000);

// uPlot is a classic deferred script; it has run by the time modules run, but
// don't depend on it to start the socket.
socket.connect();
