// The otodesk customer widget, loaded by loader.js (served as /widget.js).
//
// It connects at once, so the hub records the browsing trail: `hello` carries
// the page on every load, `page_view` follows single-page navigation. The UI
// lives in a shadow root (shell.js: the launcher; ui.js: the panel). The public API is window.otodesk:
//
//   otodesk.open({queue, topic, message})      show the form (prefilled) or the current request
//   otodesk.close()
//   otodesk.reset()                             the site's sign-out: revoke this browser's token, carry on
//                                               as a new anonymous visitor
//   otodesk.callMe({name, queue, topic, message, channel, phone, scheduledAt})
//       -> Promise<{callback_id}>; rejects with {code, message}
//   otodesk.cancel()                            cancel the current request
//   otodesk.identify({name, email, phone, userId, userHash})   (or {id, ..., hmac})
//       with userId + userHash (the site's HMAC) the visitor is linked to that customer
//       and gets "My data" (view, correct, download, erase: mydata.js)
//   otodesk.myData()                            open "My data" (identified customers only)
//   otodesk.setContext({...})                   free-form, ≤ 50 keys (cart, order number…)
//   otodesk.setLocale("zh-CN")                 the widget's language ("en", "zh-CN", "zh-TW"; null: choose
//                                               again), as data-locale="zh-TW" on the script tag does
//   otodesk.on(event, fn) / otodesk.off(event, fn)
//       "ready" {visitor_id, queues}, "status" CallbackStatus, "connected" CallbackStatus,
//       "ended" CallbackStatus, "error" {code, message},
//       "erased" {reason: "my_data" | "identify"} (sign the person out of the site),
//       "corrected" {name?, email?, phone?} (the customer's own values win over identify's)
import { HubSocket, wsUrl } from "../common/socket.js";
import { WidgetLanguage } from "./language.js";
import { ACTIVE_STATES, FINAL_STATES, WidgetShell } from "./shell.js";

const TOKEN_KEY = "otodesk.token";
const SEEN_KEY = "otodesk.seen"; // id of the last final callback the customer has seen
const MINIMIZED_KEY = "otodesk.minimized"; // id of the callback the customer minimised (this tab)
const ME_KEY = "otodesk.me"; // name and phone of this tab's last request, to prefill the form
const LOCALE_KEY = "otodesk.locale"; // the contact centre's language setting, from the last welcome
const MAX_CONTEXT_KEYS = 50; // the hub refuses more
const STALE_AFTER = 3 * 3600; // s: an ended request older than this is not shown on a new page

const stub = window.otodesk || { q: [] };
const base = stub.base || new URL(import.meta.url).origin;

// -- storage that may be blocked (private modes, sandboxed frames) -----------

function stored(storage, key) {
  try {
    return window[storage].getItem(key);
  } catch {
    return null;
  }
}

function store(storage, key, value) {
  try {
    if (value === null) window[storage].removeItem(key);
    else window[storage].setItem(key, value);
  } catch {
    /* the widget works without storage, only forgets more */
  }
}

function remembered() {
  try {
    const me = JSON.parse(stored("sessionStorage", ME_KEY) || "{}");
    return me && typeof me === "object" ? { name: me.name, phone: me.phone } : {};
  } catch {
    return {};
  }
}

// -- events for the site ----------------------------------------------------

const listeners = new Map();
const sticky = new Map(); // "ready" is replayed to late listeners

function emit(event, detail) {
  if (event === "ready") sticky.set(event, detail);
  for (const fn of listeners.get(event) ?? []) {
    try {
      fn(detail);
    } catch (error) {
      console.error(`otodesk: an "${event}" listener failed`, error);
    }
  }
}

function on(event, fn) {
  if (typeof fn !== "function") return;
  if (!listeners.has(event)) listeners.set(event, new Set());
  listeners.get(event).add(fn);
  if (sticky.has(event)) queueMicrotask(() => fn(sticky.get(event)));
}

function off(event, fn) {
  listeners.get(event)?.delete(fn);
}

// -- the visitor token ------------------------------------------------------

async function fetchToken(token, attempts = 4) {
  const response = await fetch(`${base}/api/visitor`, {
    method: "POST",
    mode: "cors",
    credentials: "omit",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: token || null }),
  }).catch(() => null); // the network, or a server between processes
  const status = response?.status ?? 502;
  if ((status === 429 || status >= 502) && attempts > 1) {
    // 429: many customers behind one address (an office NAT): wait as told. 502 and up: a
    // server restarting behind its proxy (a rolling restart): a growing pause. Spread by a
    // random second so they don't all come back at once, then ask again.
    const seconds = status === 429 ? Math.min(Number(response.headers.get("Retry-After")) || 5, 120) : 5 - attempts;
    await new Promise((resolve) => setTimeout(resolve, (seconds + Math.random()) * 1000));
    return fetchToken(token, attempts - 1);
  }
  if (!response?.ok) throw new Error(`POST /api/visitor answered ${status}`);
  const body = await response.json();
  store("localStorage", TOKEN_KEY, body.token);
  return body;
}

// -- state ------------------------------------------------------------------

const PENDING_KEY = "otodesk.pending";

const state = {
  token: stored("localStorage", TOKEN_KEY),
  visitorId: null,
  queues: [],
  callback: null,
  ready: false,
  identity: remembered(),
  pendingOpen: null, // open() asked before the first welcome
  tokenRetries: 0,
  me: null, // the short-lived "My data" token of the last verified identify (memory only)
  signedIn: null, // that identify's fields, to renew it
  signingOut: false,
  erasing: false, // a My data erasure is under way in this tab
  phoneCall: null, // { callbackId, state }: the SIP call of a phone callback the server dials
};

const socket = new HubSocket(wsUrl("/ws/customer", base), {
  hello: () => {
    forgetThisPage();  // hello reports it; the next page must not report it again
    return { token: state.token, url: location.href.slice(0, 2048), title: document.title.slice(0, 200) };
  },
});

// The site's data-locale (read by the loader), or an otodesk.setLocale() made before this ran.
const language = new WidgetLanguage({
  requested: stub.q?.findLast?.(([name]) => name === "setLocale")?.[1]?.[0] ?? stub.locale ?? null,
  site: stored("localStorage", LOCALE_KEY), // so a page draws in it before its welcome
  browser: navigator.languages || [navigator.language],
});

/** `module` once the customer's words are there too (a lazy part of the widget draws with them). */
const withWords = (module) => Promise.all([module, language.load()]).then(([loaded]) => loaded);

let kb; // kb.js, with the panel
// The launcher now; the panel (ui.js) is fetched when it is first needed.
const ui = new WidgetShell({
  submit: (values) => callMe(values),
  cancel: (callbackId) => socket.send("cancel", { callback_id: callbackId }),
  openChanged: (open) => {
    if (open) refreshQueues();
    const callback = state.callback;
    if (callback && ACTIVE_STATES.has(callback.state)) {
      store("sessionStorage", MINIMIZED_KEY, open ? null : callback.id);
    }
  },
  dismiss: () => {
    if (state.callback) store("localStorage", SEEN_KEY, state.callback.id);
  },
  kb: () => (kb ??= import("./kb.js").then((m) => m.start({ base, token: () => state.token, language }))),
}, language);

ui.prefill(state.identity);

function showCallback(callback, { fromWelcome = false } = {}) {
  const previous = state.callback;
  if (callback && state.phoneCall?.callbackId === callback.id) callback = { ...callback, phone_call: state.phoneCall.state };
  state.callback = callback;
  if (!callback) {
    if (ui.mode === "status" && !(previous && FINAL_STATES.has(previous.state))) ui.setCallback(null);
    return;
  }
  const active = ACTIVE_STATES.has(callback.state);
  const final = FINAL_STATES.has(callback.state);
  const changed = !previous || previous.id !== callback.id || previous.state !== callback.state;

  const stale = socket.serverNow() - (callback.created_at || 0) > STALE_AFTER;
  if (fromWelcome && final && (stale || stored("localStorage", SEEN_KEY) === callback.id)) {
    // Ended earlier and already seen (or long ago): start afresh, but keep the
    // panel if it shows it.
    if (ui.mode === "status" && ui.callback?.id === callback.id) ui.setCallback(callback);
    return;
  }
  ui.setCallback(callback);
  if (active && !ui.isOpen && stored("sessionStorage", MINIMIZED_KEY) !== callback.id) {
    ui.open({ focus: false }); // the request survives page loads: show it again
  }
  if (final && !ui.isOpen && changed) ui.open({ focus: false });
  if (final && ui.isOpen) store("localStorage", SEEN_KEY, callback.id);

  if (!fromWelcome || changed) emit("status", callback);
  if (changed && callback.state === "connected") emit("connected", callback);
  if (changed && final && previous && !FINAL_STATES.has(previous.state)) emit("ended", callback);
}

socket.on("welcome", (message) => {
  language.site(message.locale ?? null); // the contact centre's setting, before anything is drawn
  store("localStorage", LOCALE_KEY, message.locale ?? null);
  ui.setLook(message.look); // the console's colour, corner and greeting
  state.visitorId = message.visitor_id ?? state.visitorId;
  state.queues = message.queues ?? [];
  state.tokenRetries = 0;
  ui.setQueues(state.queues);
  ui.showLauncher();
  showCallback(message.callback ?? null, { fromWelcome: true });
  sendPendingPages();
  if (!state.ready) {
    state.ready = true;
    emit("ready", { visitor_id: state.visitorId, queues: state.queues });
    if (state.pendingOpen) {
      const options = state.pendingOpen;
      state.pendingOpen = null;
      open(options);
    }
  }
});

socket.on("callback_status", (message) => {
  showCallback(message.callback);
  if (message.callback?.moved_from) refreshQueues(); // an admin deleted its queue: the list changed
});

// Whether somebody can answer each queue changes as agents come and go: asked afresh
// whenever the panel opens (the welcome's may be hours old on a long-lived page).
function refreshQueues() {
  if (!state.ready) return;
  socket.send("queues").then((ack) => {
    if (!Array.isArray(ack.queues)) return;
    state.queues = ack.queues;
    ui.setQueues(state.queues);
  }, () => { /* the welcome's list stays */ });
}

function forgetThisPage() {
  const thisPage = window.otodesk && window.otodesk.pageId;
  try {
    const pending = JSON.parse(localStorage.getItem(PENDING_KEY) || "[]");
    const rest = pending.filter((page) => page && page.id !== thisPage);
    if (rest.length !== pending.length) localStorage.setItem(PENDING_KEY, JSON.stringify(rest));
  } catch { /* storage blocked */ }
}

// Pages the loader noted before this module connected (this page is in hello).
function sendPendingPages() {
  let pending = [];
  try {
    pending = JSON.parse(localStorage.getItem(PENDING_KEY) || "[]");
    localStorage.removeItem(PENDING_KEY);
  } catch { return; }
  const thisPage = window.otodesk && window.otodesk.pageId;
  for (const page of pending) {
    if (!page || page.id === thisPage || typeof page.url !== "string") continue;
    socket.notify("page_view", { url: page.url.slice(0, 2048), title: String(page.title || "").slice(0, 200), at: Number(page.at) || null });
  }
}

socket.on("error", (error) => {
  if (error.id == null) emit("error", { code: error.code, message: error.message });
});

// Signed out elsewhere (the site's sign-out in another tab, its server) or erased: this
// browser's token is revoked on the server, so start afresh as a new anonymous visitor.
socket.on("signed_out", async (message) => {
  if (state.signingOut || state.erasing) return; // this tab is already on it
  await signOut({ revoked: true });
  if (message.reason === "erased") emit("erased", { reason: "elsewhere" });
});

socket.onState(async (connection, detail) => {
  ui.setConnection(connection === "closed" ? "closed" : connection === "open" || !state.ready ? "open" : "reconnecting");
  if (connection !== "closed") return;
  if (detail.reason === "unauthorized" && state.tokenRetries < 3) {
    // The token was refused (expired, or signed with an old key): ask for a
    // fresh one. The server keeps the visitor when it still recognises it.
    state.tokenRetries += 1;
    try {
      const failed = state.token;
      let body = await fetchToken(failed);
      if (body.token === failed) body = await fetchToken(null);
      state.token = body.token;
      state.visitorId = body.visitor_id;
      socket.connect();
    } catch (error) {
      console.warn("otodesk: could not get a visitor token", error);
      emit("error", { code: "unauthorized", message: "The widget could not identify this visitor." });
    }
    return;
  }
  if (detail.reason === "forbidden") {
    console.warn(`otodesk: ${base} does not accept this site's origin (${location.origin}); add it to OTODESK_ALLOWED_ORIGINS`);
    ui.host.hidden = true;
  }
  emit("error", { code: detail.reason || "closed", message: "The widget is disconnected." });
});

// -- the browsing trail on single-page sites ----------------------------------

let lastUrl = location.href;
let pageTimer = null;

function pageChanged() {
  // Wait a moment: routers usually set the new title just after pushState.
  clearTimeout(pageTimer);
  pageTimer = setTimeout(() => {
    if (location.href === lastUrl) return;
    lastUrl = location.href;
    socket.notify("page_view", { url: location.href.slice(0, 2048), title: document.title.slice(0, 200) });
  }, 300);
}

for (const method of ["pushState", "replaceState"]) {
  const original = history[method];
  history[method] = function patched(...args) {
    const result = original.apply(this, args);
    pageChanged();
    return result;
  };
}
window.addEventListener("popstate", pageChanged);
window.addEventListener("hashchange", pageChanged);

// -- the public API -----------------------------------------------------------

function toEpochSeconds(value) {
  if (value === undefined || value === null || value === "") return null;
  if (value instanceof Date) return value.getTime() / 1000;
  if (typeof value === "number") return value > 1e11 ? value / 1000 : value; // ms or s
  const parsed = Date.parse(value);
  return isNaN(parsed) ? null : parsed / 1000;
}

async function callMe(options = {}) {
  const channel = options.channel === "phone" ? "phone" : "browser";
  const fields = {
    name: String(options.name ?? state.identity.name ?? "").trim(),
    queue: options.queue ?? "", // none named: the server's choice, by the customer's language (locale)
    topic: String(options.topic ?? "").trim(),
    message: String(options.message ?? "").trim(),
    channel,
    phone: channel === "phone" ? String(options.phone ?? state.identity.phone ?? "").trim() || null : null,
    scheduled_at: toEpochSeconds(options.scheduledAt ?? options.scheduled_at),
    // The sentence the customer was shown next to the number (the panel's, or the site's own).
    consent: channel === "phone" ? String(options.consent ?? "").trim() || null : null,
    locale: language.locale, // what the customer is written to in after the call
  };
  try {
    const ack = await socket.send("call_me", fields);
    store("sessionStorage", MINIMIZED_KEY, null);
    // Remembered for this tab only, to prefill a later request on another page.
    store("sessionStorage", ME_KEY, JSON.stringify({ name: fields.name, phone: fields.phone || undefined }));
    state.identity.name = fields.name || state.identity.name;
    state.identity.phone = fields.phone || state.identity.phone;
    ui.prefill({ name: fields.name, phone: fields.phone });
    if (!state.callback || state.callback.id !== ack.callback_id) {
      // The status event may come after the ack: show the request meanwhile.
      const at = ack.calling?.scheduled_at ?? fields.scheduled_at; // moved into calling hours
      showCallback({
        id: ack.callback_id, state: at ? "scheduled" : "queued", queue: ack.queue || fields.queue,
        channel, phone: fields.phone, position: null, estimated_wait: null,
        scheduled_at: at, agent_name: null, created_at: socket.serverNow(),
      });
    }
    ui.open({ focus: true });
    return { callback_id: ack.callback_id, calling: ack.calling };
  } catch (error) {
    const detail = { code: error.code, message: error.message, detail: error.detail };
    emit("error", detail);
    throw detail;
  }
}

function open(options = {}) {
  if (!state.ready) {
    state.pendingOpen = options || {};
    return;
  }
  const callback = state.callback;
  if (callback && ACTIVE_STATES.has(callback.state)) {
    ui.setCallback(callback);
    ui.open();
    return;
  }
  ui.showForm({ focus: true, prefill: { ...state.identity, ...(options || {}) } });
}

function identify(details = {}) {
  const fields = {};
  for (const [from, to] of [["name", "name"], ["email", "email"], ["phone", "phone"], ["userId", "user_id"], ["user_id", "user_id"], ["id", "user_id"], ["userHash", "user_hash"], ["user_hash", "user_hash"], ["hmac", "user_hash"]]) {
    if (details[from] !== undefined && details[from] !== null) fields[to] = String(details[from]).slice(0, 200);
  }
  Object.assign(state.identity, { name: fields.name ?? state.identity.name, phone: fields.phone ?? state.identity.phone });
  ui.prefill({ name: fields.name, phone: fields.phone });
  socket.dropQueued("identify");
  if (!fields.user_id) {
    socket.notify("identify", fields);
    return;
  }
  // A site-verified customer: the ack says whether the HMAC held; then "My data".
  socket.send("identify", fields).then((ack) => identified(ack, fields),
    (error) => emit("error", { code: error.code, message: error.message }));
}

function identified(ack, fields) {
  if (ack.erased) {
    // Erased at the person's request: the server linked nothing; the site is told.
    state.me = null;
    state.signedIn = null;
    dropMyData();
    emit("erased", { reason: "identify" });
    return;
  }
  if (!ack.verified) return;
  // The short-lived key to "My data" lives in memory only; the visitor token can't open it.
  state.me = ack.me_token || null;
  state.signedIn = fields;
  if (ack.corrected && Object.keys(ack.corrected).length) emit("corrected", { ...ack.corrected });
  loadMyData();
}

/** A fresh "My data" token: the same verified identify again (null when signed out). */
async function refreshMe() {
  if (!state.signedIn) return null;
  const fields = state.signedIn;
  identified(await socket.send("identify", fields), fields);
  return state.me;
}

// -- "My data": mydata.js is fetched only for a customer the site identified ------

let myData = null;
function loadMyData() {
  myData ??= withWords(import("./mydata.js")).then((module) => module.start({
    ui, base, token: () => state.me, refresh: refreshMe,
    erasing: (flag) => { state.erasing = flag; },
    onErased: async () => {
      // The person is gone and the server signed this browser out: start afresh, tell the
      // site. The panel says so itself, then goes.
      myData = null;
      try {
        await signOut({ revoked: true });
      } finally {
        state.erasing = false;
      }
      emit("erased", { reason: "my_data" });
    },
  }));
  return myData;
}

async function dropMyData() {
  const shown = myData;
  myData = null;
  (await shown?.catch(() => null))?.remove();
}

function setContext(context = {}) {
  if (!context || typeof context !== "object" || Array.isArray(context)) throw new TypeError("otodesk.setContext expects an object");
  const keys = Object.keys(context);
  if (keys.length > MAX_CONTEXT_KEYS) {
    console.warn(`otodesk: setContext keeps the first ${MAX_CONTEXT_KEYS} of ${keys.length} keys`);
    context = Object.fromEntries(keys.slice(0, MAX_CONTEXT_KEYS).map((key) => [key, context[key]]));
  }
  socket.dropQueued("set_context"); // only the newest matters
  socket.notify("set_context", { context });
}

async function cancel() {
  const callback = state.callback;
  if (!callback || !ACTIVE_STATES.has(callback.state)) return;
  await socket.send("cancel", { callback_id: callback.id });
}

/**
 * The site's sign-out (as Intercom's shutdown, Chatwoot's reset): this browser stops being
 * the person who was signed in. It forgets its visitor key and what it prefilled, and carries
 * on as a new anonymous visitor, so what happens next is not added to their record.
 */
async function reset() {
  await signOut({ revoked: false });
}

/** Forget this browser's visitor (revoked on the server too) and carry on as a new one. */
async function signOut({ revoked }) {
  state.signingOut = true;
  try {
    await forget(revoked);
  } finally {
    state.signingOut = false;
  }
}

async function forget(revoked) {
  const old = state.token;
  for (const key of [TOKEN_KEY, SEEN_KEY, PENDING_KEY]) store("localStorage", key, null);
  for (const key of [ME_KEY, MINIMIZED_KEY]) store("sessionStorage", key, null);
  state.identity = {};
  state.me = null;
  state.signedIn = null;
  for (const field of ["name", "phone"]) ui.setValue(field, "");
  await dropMyData();
  if (old && !revoked) {
    // Server-side too, or a copy of the old token would still open this person's record.
    await fetch(`${base}/api/me/sign-out`, { method: "POST", mode: "cors", credentials: "omit",
      keepalive: true, headers: { "X-Otodesk-Visitor": old } }).catch(() => {});
  }
  const body = await fetchToken(null);
  state.token = body.token;
  socket.reconnect({ resync: true });
}

const api = {
  open,
  reset,
  close: () => ui.close(),
  callMe,
  cancel,
  identify,
  setContext,
  myData: () => loadMyData().then((controller) => controller?.open()),
  setLocale: (locale) => language.set(locale),
  on,
  off,
};

// Replace the stub's methods and run what was queued, in order.
const queued = Array.isArray(stub.q) ? stub.q.splice(0) : [];
Object.assign(stub, api, { q: [], loaded: true, ready: true, base, version: 1 });
window.otodesk = stub;
for (const [name, args, resolve, reject] of queued) {
  try {
    const result = api[name]?.(...(args || []));
    Promise.resolve(result).then(resolve, reject);
  } catch (error) {
    reject?.(error);
  }
}

// -- co-browse: cobrowse.js is fetched only when an agent asks to see the page,
// or when this page continues a share (and the recorder only after consent) ----

let cobrowse = null;
function loadCobrowse() {
  cobrowse ??= withWords(import("./cobrowse.js")).then((module) => module.start(socket, { base, language }));
  return cobrowse;
}
socket.on("cobrowse_request", (message) => loadCobrowse().then((controller) => controller.receive(message)));
if (stored("sessionStorage", "otodesk.cobrowse")) loadCobrowse();

// Documents an agent pushes (documents.js, fetched on the first one).
let documents = null;
function loadDocuments() {
  documents ??= withWords(import("./documents.js")).then((module) => module.start(socket, { base, language }));
  return documents;
}
socket.on("doc_open", (message) => loadDocuments().then((controller) => controller.receive(message)));
// A pushed document stays open across page loads: documents.js re-opens it on this page.
if (stored("sessionStorage", "otodesk.documents")) loadDocuments();

// -- after the contact: the agent's summary, a rating and "Not solved" (aftercall.js, fetched
// only when there is one: at wrap-up, or on a later page load from the welcome) --------------

let afterCall = null;
function showAfterCall(shown) {
  // Closed in this browser before (aftercall.js remembers it): not even the module is fetched.
  if (!shown || stored("localStorage", "otodesk.aftercall") === shown.callback_id) return;
  afterCall ??= withWords(import("./aftercall.js")).then((module) => module.start(socket, { shell: ui, language }));
  afterCall.then((card) => card.show(shown));
}
socket.on("after_call", (message) => showAfterCall(message.after_call));
socket.on("welcome", (message) => showAfterCall(message.after_call));

// -- voice: voice.js is fetched only when a "talk in the browser" callback is connected --

let voice = null;
let iceServers = [];
function voiceFor(callback) {
  // Fetched as soon as an agent is being offered the call, so connecting costs no download.
  if (!voice && callback?.channel === "browser" && ["offered", "connected"].includes(callback.state)) {
    voice = ui.load().then((panel) => import("./voice.js").then((module) => module.start(socket, { ui: panel, iceServers, api: stub, language })));
  }
  voice?.then((controller) => controller.update(callback));
}
socket.on("welcome", (message) => {
  iceServers = message.voice?.ice_servers || [];
  voiceFor(message.callback);
});
socket.on("callback_status", (message) => voiceFor(message.callback));
// A phone callback the server dials: its SIP call's state (dialling, ringing, connected, ended),
// from voice_state and the welcome's calls; callback_status frames don't carry it.
function phoneCallState(call) {
  if (!call?.phone || state.callback?.channel !== "phone" || call.callback_id !== state.callback.id) return;
  state.phoneCall = { callbackId: call.callback_id, state: call.phone };
  showCallback(state.callback);
}
socket.on("voice_state", (message) => phoneCallState(message.call));
socket.on("welcome", (message) => (message.voice?.calls || []).forEach(phoneCallState));

// -- connect ------------------------------------------------------------------

async function start() {
  if (!state.token) {
    try {
      const body = await fetchToken(null);
      state.token = body.token;
      state.visitorId = body.visitor_id;
    } catch (error) {
      console.warn("otodesk: the widget could not start", error);
      emit("error", { code: "unavailable", message: "The call-me service is unavailable." });
      return;
    }
  }
  socket.connect();
}

start();
