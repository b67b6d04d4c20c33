// The supervisor wall: one socket to /ws/supervisor; `welcome` and each
// `wall` event carry the whole picture (queues, agents, history), each
// `wall_delta` what changed since (walldelta.js keeps the picture); it is
// applied in place. Between messages the clocks keep ticking from the
// message's `at`, on the server's clock.
import { h, setText } from "../common/dom.js";
import { clock } from "../common/format.js";
import { queueName } from "../common/staff-language.js";
import { messages, percent, t, timeOfDay } from "./i18n.js";
import { HubSocket, wsUrl } from "../common/socket.js";
import { WaitingChart } from "./chart.js";
import { CallMonitor } from "./monitor.js";
import { WallView } from "./walldelta.js";

const STATE_ORDER = ["busy", "reserved", "wrap_up", "available", "away", "offline"];
// The server sends states as codes; these are their names.
const STATE_LABELS = {
  busy: "state.busy", reserved: "state.reserved", wrap_up: "state.wrap_up", available: "state.available", away: "state.away", offline: "state.offline",
};
const COUNT_LABELS = {
  busy: "count.busy", reserved: "count.reserved", wrap_up: "count.wrap_up", available: "count.available", away: "count.away", offline: "count.offline",
};
const stateName = (state) => (STATE_LABELS[state] ? t(STATE_LABELS[state]) : state);
const DEFAULT_SERVICE_LEVEL_GOAL = 0.8; // the classic "80% within the target time"
const STALE_AFTER = 12; // s without a wall message before the page says so
const RESYNC_AGAIN = 5000; // ms before asking again for a whole wall that has not come

const $ = (selector) => document.querySelector(selector);
const socket = new HubSocket(wsUrl("/ws/supervisor"));
// Live calls (listen, whisper, barge) listen to this socket themselves (monitor.js).
new CallMonitor({ socket, root: document.querySelector(".wall"), messages });
const chart = new WaitingChart($("[data-chart]"), messages);

const view = new WallView(); // the whole wall and the deltas since
let latest = null; // the wall shown
let resyncAsked = 0; // Date.now() when a whole wall was last asked for, while one is awaited
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
  const waiting = metric("waiting", t("tile.waiting"), { main: true });
  const longest = metric("longest-wait", t("tile.longest"));
  const estimated = metric("estimated-wait", t("tile.estimated"));
  f.waiting = waiting.value;
  f.longest = longest.value;
  f.estimated = estimated.value;
  f.title = h("h2", { translate: "no" }, queueName(t, queue));
  f.staffed = h("span", { class: "staffed muted", dataset: { testid: "staffed" } });
  f.serviceLevel = h("span", { class: "sl-value", dataset: { testid: "service-level" } }, "—");
  f.target = h("span", { class: "muted sl-target", dataset: { testid: "service-level-target" } });
  f.slFill = h("span", { class: "sl-fill" });
  f.slMark = h("span", { class: "sl-mark", title: t("tile.goal") });
  const today = (testid, term, title = null) => {
    f[testid] = h("dd", { dataset: { testid } }, "—");
    return [h("dt", {}, title ? h("abbr", { title }, term) : term), f[testid]];
  };
  const element = h("article", { class: "tile card", dataset: { testid: `wall-queue-${queue.name}`, queue: queue.name }, "aria-labelledby": `tile-${queue.name}` },
    h("header", {}, f.title, f.staffed),
    h("div", { class: "metrics" }, waiting.element, longest.element, estimated.element),
    h("div", { class: "sl" },
      h("div", { class: "sl-line" }, h("span", {}, t("tile.service_level")), f.serviceLevel, f.target),
      h("span", { class: "sl-bar", "aria-hidden": "true" }, f.slFill, f.slMark)),
    h("dl", { class: "today" },
      today("offered", t("tile.offered")), today("inbound", t("tile.inbound"), t("tile.inbound_hint")),
      today("answered", t("tile.answered")), today("abandoned", t("tile.abandoned")),
      today("abandon-rate", t("tile.abandon_rate_short"), t("tile.abandon_rate")), today("asa", t("tile.asa_short"), t("tile.asa"))));
  f.title.id = `tile-${queue.name}`;
  return { element, f };
}

/** An estimated wait for a tile: "< 1 min", "~3 min", "~1 hr, 5 min"; null -> "—". */
function compactWait(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
  if (seconds < 60) return t("tile.wait_under_minute");
  return t("tile.wait_about", { duration: messages.duration(seconds) });
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
    setText(f.title, queueName(t, queue));
    setText(f.waiting, String(queue.waiting ?? 0));
    setText(f.estimated, compactWait(queue.estimated_wait));
    setText(f.staffed, t("tile.staffed", { staffed: queue.agents_staffed ?? 0, available: queue.agents_available ?? 0 }));
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
    const goalText = percent(goal / 100);
    setText(f.target, typeof within === "number"
      ? t("tile.target", { seconds: Math.round(within), goal: goalText })
      : t("tile.goal_only", { goal: goalText }));
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
    name: h("span", { class: "agent-name", translate: "no" }),
    state: h("span", { class: "state-pill", dataset: { testid: "agent-state" } }),
    reason: h("span", { class: "muted reason", dataset: { testid: "agent-reason" } }),
    time: h("td", { class: "time", dataset: { testid: "agent-time" } }),
    skills: h("td", { class: "skills", translate: "no" }),
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
    setText(f.state, stateName(agent.state));
    setText(f.reason, agent.state === "away" && agent.reason ? awayReason(agent.reason) : "");
    const titles = (agent.skills || []).map((skill) => queueName(t, queues.find((queue) => queue.name === skill) || { name: skill }));
    setText(f.skills, titles.join(", "));
  }
  if (!agents.length) body.append(h("tr", { class: "empty" }, h("td", { colspan: "4", class: "muted" }, t("agents.none"))));

  const counts = STATE_ORDER.map((state) => [state, agents.filter((agent) => agent.state === state).length]).filter(([, n]) => n);
  $("[data-state-counts]").replaceChildren(...counts.map(([state, n]) =>
    h("li", { class: "state-pill", dataset: { state, testid: `count-${state}` } },
      COUNT_LABELS[state] ? t(COUNT_LABELS[state], { count: n }) : `${n} ${state}`)));
}

/** The desk's away reasons are codes (static/desk/statebar.js); anything else as typed. */
const AWAY_REASONS = {
  break: "away.break", lunch: "away.lunch", meeting: "away.meeting", training: "away.training", other: "away.other",
  // The router's own reasons (desktop/routing): just signed in, a missed offer, no desk open.
  login: "away.login", "missed offer": "away.missed_offer", "desk closed": "away.desk_closed",
};
function awayReason(reason) {
  const key = AWAY_REASONS[String(reason).toLowerCase()];
  return key ? t(key) : reason;
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
  setText(updated, age > STALE_AFTER ? t("wall.stale", { seconds: Math.round(age) }) : t("wall.updated", { time: timeOfDay(latest.at) }));
}

// -- the hub's messages ------------------------------------------------------------

function show(wall) {
  latest = wall;
  receivedAt = Date.now();
  const queues = wall.queues || [];
  renderQueues(queues);
  renderAgents(wall.agents || [], queues);
  chart.update(wall);
  tick();
}

function take(message) {
  const taken = view.take(message);
  if (taken === "applied") {
    resyncAsked = 0;
    show(view.wall);
  } else if (taken === "gap") {
    // A welcome with no wall yet (the server asked for one) shows the empty wall it carries.
    if (message.type === "welcome" && !latest) show(message);
    if (message.type === "wall_delta" && Date.now() - resyncAsked > RESYNC_AGAIN) {
      // Not the wall just before it (lost, another leader): a whole one comes as `wall`.
      resyncAsked = Date.now();
      socket.send("wall_resync").catch(() => {});
    }
  }
}

socket.on("welcome", take);
socket.on("wall", take);
socket.on("wall_delta", take);

socket.onState((state, detail) => {
  const indicator = $("[data-testid=connection]");
  indicator.dataset.state = state === "idle" ? "connecting" : state;
  setText(indicator.querySelector("[data-connection-text]"), t({
    idle: "hub.connecting", connecting: "hub.connecting", open: "wall.live", reconnecting: "hub.reconnecting",
    closed: detail.reason === "unauthorized" ? "wall.signed_out" : detail.reason === "forbidden" ? "wall.not_allowed" : "wall.disconnected",
  }[state]));
  if (state === "closed" && detail.reason === "unauthorized") {
    setTimeout(() => location.assign(`/login?next=${encodeURIComponent(location.pathname)}`), 1500);
  }
});

setInterval(tick, 1000);

// uPlot is a classic deferred script; it has run by the time modules run, but
// don't depend on it to start the socket.
socket.connect();
