// A websocket client for the otodesk hub (docs/protocol.md), shared by the
// widget, the desk and the wall.
//
//   const socket = new HubSocket(wsUrl("/ws/agent"), { hello: () => ({}) });
//   socket.on("welcome", (msg) => ...);          // full state: replace yours
//   socket.on("offer", (msg) => ...);            // room events, in order
//   socket.onState((state, detail) => ...);      // connecting | open | reconnecting | closed
//   socket.connect();
//   await socket.send("accept", { offer_id });   // resolves with the ack, rejects with a HubError
//   socket.notify("page_view", { url, title });  // no id, no answer expected
//
// What it does for you:
// - sends `hello` first on every connection, with the last `seq` it saw, and
//   with the fields returned by `options.hello()` (called on each connect, so a
//   fresh token or the current URL is picked up);
// - drops room events it has already seen (seq <= last seq), so a replay after
//   `resumed` can't apply an event twice;
// - reconnects with exponential backoff and full jitter; resets the backoff once
//   the server has answered `welcome` or `resumed`;
// - keeps every command until its `ack` or `error`, and sends it again with the
//   SAME id after a reconnect (the server applies an id once);
// - pings every 20 s and treats a socket that stays silent for 10 s after a
//   ping as dead (a half-open TCP connection never fires `close` by itself);
// - keeps the server clock offset (`serverNow()`), from `welcome.now` and from
//   `pong.at`, so countdowns agree with the server.
//
// Close codes: 4401 (unauthorized) stops and reports state "closed" with
// reason "unauthorized" (the page decides: log in again, or get a new visitor
// token and call connect()); 4403 (origin refused) stops; 4408 (too slow)
// reconnects asking for a full resync; anything else reconnects.

export const PROTOCOL_VERSION = 1;

/** An `error` answer from the hub, or a local failure (code "timeout", "closed"). */
export class HubError extends Error {
  constructor(code, message, { id = null, type = null } = {}) {
    super(message || code);
    this.name = "HubError";
    this.code = code;
    this.id = id;
    this.type = type;
  }
}

/** The websocket URL for `path` on the server at `base` (default: this page's origin). */
export function wsUrl(path, base = globalThis.location?.href) {
  const url = new URL(path, base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.hash = "";
  return url.toString();
}

let counter = 0;

/** A command id: 1-64 chars of [A-Za-z0-9_.:-], unique enough across reloads. */
export function commandId(prefix = "c") {
  counter = (counter + 1) % 1e9;
  const random = Math.random().toString(36).slice(2, 10);
  return `${prefix}-${Date.now().toString(36)}-${counter.toString(36)}-${random}`.slice(0, 64);
}

const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_FORBIDDEN = 4403;
const CLOSE_TOO_SLOW = 4408;

export class HubSocket {
  /**
   * @param {string} url  ws:// or wss:// URL (see wsUrl)
   * @param {object} [options]
   * @param {() => object} [options.hello]  extra hello fields, called on each connect
   * @param {number} [options.pingInterval=20000]  ms between pings while open
   * @param {number} [options.pongTimeout=10000]   ms of silence after a ping before reconnecting
   * @param {number} [options.minDelay=500]        first reconnect delay cap, ms
   * @param {number} [options.maxDelay=20000]      largest reconnect delay cap, ms
   * @param {number} [options.commandTimeout=30000] ms before an unanswered command is rejected ("timeout")
   * @param {number} [options.maxQueued=100]       notifications kept while offline (oldest dropped)
   * @param {Function} [options.WebSocket]         constructor to use (tests)
   */
  constructor(url, options = {}) {
    this.url = url;
    this.options = {
      hello: () => ({}),
      pingInterval: 20000,
      pongTimeout: 10000,
      minDelay: 500,
      maxDelay: 20000,
      commandTimeout: 30000,
      maxQueued: 100,
      WebSocket: globalThis.WebSocket,
      ...options,
    };
    /** Last room `seq` seen; sent back in hello.last_seq. */
    this.lastSeq = null;
    /** Seconds to add to the local clock to get the server's. */
    this.clockOffset = 0;
    this._bestRoundTrip = Infinity; // ms: the pong that set clockOffset
    /** "idle" | "connecting" | "open" | "reconnecting" | "closed" */
    this.state = "idle";
    this.attempt = 0;

    this._ws = null;
    this._ready = false; // welcome or resumed received on this connection
    this._listeners = new Map();
    this._stateListeners = new Set();
    this._pending = new Map(); // id -> {type, fields, resolve, reject, timer}
    this._queue = []; // notifications waiting for a connection
    this._reconnectTimer = null;
    this._pingTimer = null;
    this._silenceTimer = null;
    this._pingSentAt = 0;
    this._stopped = true;
    this._lastGapResync = 0;
    this._onOnline = () => {
      if (this.state === "reconnecting" && this._reconnectTimer) this._reconnectNow();
    };
  }

  // -- events ---------------------------------------------------------------

  /** Call `fn(message)` for every server message of `type` ("*" for all). Returns an unsubscribe function. */
  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    this._listeners.get(type)?.delete(fn);
  }

  /** Call `fn(state, detail)` on every connection state change; called once now with the current state. */
  onState(fn) {
    this._stateListeners.add(fn);
    fn(this.state, {});
    return () => this._stateListeners.delete(fn);
  }

  _emit(type, message) {
    for (const key of [type, "*"]) {
      for (const fn of this._listeners.get(key) ?? []) {
        try {
          fn(message);
        } catch (error) {
          console.error(`otodesk: a "${type}" listener failed`, error);
        }
      }
    }
  }

  _setState(state, detail = {}) {
    if (state === this.state && state !== "reconnecting" && !detail.reason) return;
    this.state = state;
    for (const fn of this._stateListeners) {
      try {
        fn(state, detail);
      } catch (error) {
        console.error("otodesk: a state listener failed", error);
      }
    }
  }

  // -- clock ----------------------------------------------------------------

  /** The server's clock, epoch seconds (float). */
  serverNow() {
    return Date.now() / 1000 + this.clockOffset;
  }

  /** From a welcome (``roundTripMs`` null: a first guess for this connection, late by however long
   * the message took: a process just started may take seconds) or a pong (its round trip known):
   * the pong with the shortest round trip on this connection wins. */
  _syncClock(serverTime, roundTripMs = null) {
    if (typeof serverTime !== "number" || !isFinite(serverTime)) return;
    if (roundTripMs === null) {
      this._bestRoundTrip = Infinity;
    } else if (roundTripMs > this._bestRoundTrip) {
      return;
    } else {
      this._bestRoundTrip = roundTripMs;
    }
    this.clockOffset = serverTime + (roundTripMs || 0) / 2000 - Date.now() / 1000;
  }

  // -- lifetime -------------------------------------------------------------

  /** Open the connection (and keep it open until close()). Safe to call again. */
  connect() {
    this._stopped = false;
    if (this._ws) return;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    globalThis.addEventListener?.("online", this._onOnline);
    this._setState(this.attempt === 0 ? "connecting" : "reconnecting", { attempt: this.attempt });
    let ws;
    try {
      ws = new this.options.WebSocket(this.url);
    } catch (error) {
      this._scheduleReconnect();
      return;
    }
    this._ws = ws;
    this._ready = false;
    ws.onopen = () => {
      if (this._ws !== ws) return;
      this._transmit({ type: "hello", last_seq: this.lastSeq, ...(this.options.hello() || {}) });
      this._startPings();
    };
    ws.onmessage = (event) => {
      if (this._ws !== ws) return;
      this._heard();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        console.warn("otodesk: ignored a frame that is not JSON");
        return;
      }
      if (message && typeof message.type === "string") this._receive(message);
    };
    ws.onclose = (event) => {
      if (this._ws !== ws) return;
      this._dropSocket();
      this._closed(event.code, event.reason);
    };
    ws.onerror = () => {
      // A `close` event always follows; reconnecting happens there.
    };
  }

  /** Close for good: no reconnect; commands still pending are rejected ("closed"). */
  close() {
    this._stopped = true;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    globalThis.removeEventListener?.("online", this._onOnline);
    const ws = this._ws;
    this._dropSocket();
    try {
      ws?.close(1000, "bye");
    } catch {
      /* already closed */
    }
    this._rejectAll("closed", "the connection was closed");
    this._setState("closed", { reason: "closed" });
  }

  /** Drop the current connection and reconnect at once, optionally without resuming (full resync). */
  reconnect({ resync = false } = {}) {
    if (resync) this.lastSeq = null;
    const ws = this._ws;
    this._dropSocket();
    try {
      ws?.close(4000, "reconnect");
    } catch {
      /* already closed */
    }
    if (!this._stopped) this._reconnectNow();
  }

  _dropSocket() {
    if (this._ws) {
      this._ws.onopen = this._ws.onmessage = this._ws.onclose = this._ws.onerror = null;
    }
    this._ws = null;
    this._ready = false;
    clearInterval(this._pingTimer);
    clearTimeout(this._silenceTimer);
    this._pingTimer = this._silenceTimer = null;
  }

  _closed(code, reason) {
    if (this._stopped) return;
    if (code === CLOSE_UNAUTHORIZED) {
      this._stopped = true;
      this._rejectAll("unauthorized", reason || "not signed in");
      this._setState("closed", { reason: "unauthorized", code });
      return;
    }
    if (code === CLOSE_FORBIDDEN) {
      this._stopped = true;
      this._rejectAll("forbidden", reason || "this site may not connect");
      this._setState("closed", { reason: "forbidden", code });
      return;
    }
    if (code === CLOSE_TOO_SLOW) this.lastSeq = null; // resync from a fresh welcome
    this._scheduleReconnect();
  }

  _scheduleReconnect() {
    if (this._stopped) return;
    this.attempt += 1;
    // Full jitter: a random delay up to the exponential cap, so a server
    // restart is not met by every client at the same instant.
    const cap = Math.min(this.options.maxDelay, this.options.minDelay * 2 ** (this.attempt - 1));
    const delay = Math.round(cap / 2 + Math.random() * (cap / 2));
    this._setState("reconnecting", { attempt: this.attempt, delay });
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      this.connect();
    }, delay);
  }

  _reconnectNow() {
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    this.connect();
  }

  // -- keepalive ------------------------------------------------------------

  _startPings() {
    clearInterval(this._pingTimer);
    this._pingTimer = setInterval(() => this._ping(), this.options.pingInterval);
  }

  _ping() {
    if (!this._ready) return;
    this._pingSentAt = Date.now();
    this._transmit({ type: "ping" });
    clearTimeout(this._silenceTimer);
    this._silenceTimer = setTimeout(() => {
      console.warn("otodesk: no answer to ping, reconnecting");
      this.reconnect();
    }, this.options.pongTimeout);
  }

  _heard() {
    clearTimeout(this._silenceTimer);
    this._silenceTimer = null;
  }

  // -- receiving ------------------------------------------------------------

  _receive(message) {
    switch (message.type) {
      case "welcome":
        if (typeof message.seq === "number") this.lastSeq = message.seq;
        this._syncClock(message.now);
        this._becomeReady();
        this._emit("welcome", message);
        this._flush();
        this._ping(); // at once: the welcome's clock may be late (talk times and countdowns read it)
        return;
      case "resumed":
        if (typeof message.seq === "number" && this.lastSeq !== null && message.seq < this.lastSeq) {
          // The room's numbering went backwards (a server that lost its state):
          // what we hold can't be trusted, ask for a full welcome instead.
          console.warn("otodesk: the room's seq went backwards, resyncing");
          setTimeout(() => this.reconnect({ resync: true }), 0);
          return;
        }
        // Events after our last_seq follow; they move lastSeq themselves.
        this._syncClock(message.now);
        this._becomeReady();
        this._emit("resumed", message);
        this._flush();
        this._ping();
        return;
      case "pong":
        if (this._pingSentAt) this._syncClock(message.at, Date.now() - this._pingSentAt);
        this._pingSentAt = 0;
        this._emit("pong", message);
        return;
      case "ack":
        this._settle(message.id, (entry) => entry.resolve(message));
        this._emit("ack", message);
        return;
      case "error":
        this._receiveError(message);
        return;
      default:
        break;
    }
    if (typeof message.seq === "number") {
      if (this.lastSeq !== null && message.seq <= this.lastSeq) return; // seen already
      if (this.lastSeq !== null && message.seq > this.lastSeq + 1) this._gap(message.seq);
      this.lastSeq = message.seq;
    }
    this._emit(message.type, message);
  }

  _receiveError(message) {
    const error = new HubError(message.code, message.message, { id: message.id ?? null });
    error.detail = message.detail; // facts to word it with (phone_waiting, bad_time, ...)
    if (message.id != null && this._pending.has(message.id)) {
      this._settle(message.id, (entry) => {
        error.type = entry.type;
        entry.reject(error);
      });
    }
    if (message.code === "unauthorized" && message.id == null) {
      // The server closes with 4401 right after; stop reconnecting either way.
      const ws = this._ws;
      this._dropSocket();
      try {
        ws?.close(1000, "unauthorized");
      } catch {
        /* already closed */
      }
      this._closed(CLOSE_UNAUTHORIZED, message.message);
    }
    this._emit("error", error);
  }

  _gap(seq) {
    // An event went missing inside one connection: the server says every
    // room event has seq +1. Ask for a full state, but not in a loop.
    console.warn(`otodesk: missed events ${this.lastSeq + 1}..${seq - 1}`);
    const now = Date.now();
    if (now - this._lastGapResync > 30000) {
      this._lastGapResync = now;
      setTimeout(() => this.reconnect({ resync: true }), 0);
    }
  }

  _becomeReady() {
    this._ready = true;
    this.attempt = 0;
    this._setState("open");
  }

  // -- sending --------------------------------------------------------------

  /**
   * Send a command; resolves with its `ack` message, rejects with a HubError
   * (the server's `error`, or code "timeout" / "closed" / "unauthorized").
   * Sent as soon as the socket is ready; re-sent with the same id after a reconnect.
   */
  send(type, fields = {}) {
    const id = fields.id ?? commandId(type.replace(/[^A-Za-z0-9]/g, "").slice(0, 8) || "c");
    return new Promise((resolve, reject) => {
      const entry = { id, type, fields: { ...fields, id }, resolve, reject, timer: null };
      entry.timer = setTimeout(() => {
        this._settle(id, () => reject(new HubError("timeout", "The server did not answer in time.", { id, type })));
      }, this.options.commandTimeout);
      this._pending.set(id, entry);
      if (this._ready) this._transmit({ type, ...entry.fields });
    });
  }

  /** Send a message that has no id and gets no answer; kept (bounded) until connected. */
  notify(type, fields = {}) {
    const message = { type, ...fields };
    if (this._ready) {
      this._transmit(message);
      return;
    }
    this._queue.push(message);
    if (this._queue.length > this.options.maxQueued) this._queue.shift();
  }

  /** Forget queued notifications of `type` (e.g. an older set_context superseded by a newer one). */
  dropQueued(type) {
    this._queue = this._queue.filter((message) => message.type !== type);
  }

  /** Whether the hub has answered hello on the current connection. */
  get ready() {
    return this._ready;
  }

  _flush() {
    const queued = this._queue;
    this._queue = [];
    for (const message of queued) this._transmit(message);
    for (const entry of this._pending.values()) this._transmit({ type: entry.type, ...entry.fields });
  }

  _transmit(message) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) return false;
    try {
      ws.send(JSON.stringify(message));
      return true;
    } catch (error) {
      console.warn("otodesk: send failed", error);
      return false;
    }
  }

  _settle(id, fn) {
    const entry = this._pending.get(id);
    if (!entry) return;
    this._pending.delete(id);
    clearTimeout(entry.timer);
    fn(entry);
  }

  _rejectAll(code, message) {
    for (const id of [...this._pending.keys()]) {
      this._settle(id, (entry) => entry.reject(new HubError(code, message, { id, type: entry.type })));
    }
  }
}
