// Live calls on the wall: listen, whisper, barge, leave; each leg's quality.
//
//   new CallMonitor({ socket, root })   // listens to welcome / voice_state / voice_quality itself
//
// The supervisor joins a call with one RTCPeerConnection (common/voicepeer.js):
// slot 0 plays the customer, slot 1 the agent; the supervisor's microphone is
// heard only in whisper (by the agent) and barge (by both).
//
// Each leg's quality twice: as the server's aiortc sees it, and as the browser
// itself reports it (getStats: RTT, jitter, loss, concealed audio).
//
// Test ids: voice-calls, voice-call-<callback_id> (data-state, data-mode) with
// call-customer, call-state, call-mode, call-quality, call-quality-<role>
// (data-warn="true" when the leg degrades or is reconnecting), call-browser-<role>
// (the browser's report), btn-listen, btn-whisper, btn-barge, btn-leave.
import { errorText } from "../common/errors.js";
import { h, setText } from "../common/dom.js";
import { trunkFailing } from "../common/trunk.js";
import { VoiceLink } from "../common/voicelink.js";

// A leg beyond any of these is degraded; concealed_ms is per browser report (4 s): 5 % of it.
const WARN = { rtt_ms: 300, jitter_ms: 30, loss: 0.05, concealed_ms: 200 };

export class CallMonitor {
  /** `messages`: the wall's language (static/supervisor/i18n.js). */
  constructor({ socket, root, messages }) {
    this.socket = socket;
    const t = (this.t = messages.t);
    this.iceServers = [];
    this.calls = new Map(); // callback_id -> call
    this.quality = new Map(); // callback_id -> [leg stats]
    this.ended = new Set(); // calls seen ending: a late quality report must not bring them back
    this.rows = new Map();
    this.joined = null; // callback_id we are on
    this.link = null;
    this.mode = null;
    this.list = h("div", { class: "voice-call-list" }, h("p", { class: "muted empty" }, t("calls.none")));
    // The SIP trunk of each server process (desktop/voice/phone.py): welcome, then trunk_state events.
    this.trunks = new Map();
    this.trunkLine = h("p", { class: "voice-trunk muted", role: "status", dataset: { testid: "wall-trunk", state: "off" }, hidden: true });
    this.section = h("section", { class: "card voice-calls", "aria-labelledby": "calls-title", dataset: { testid: "voice-calls" } },
      h("h2", { id: "calls-title" }, t("calls.title")), this.trunkLine, this.list);
    root.prepend(this.section);
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/supervisor/monitor.css";
    document.head.append(link);

    socket.on("welcome", (message) => {
      this.iceServers = message.voice?.ice_servers || [];
      this.calls.clear();
      for (const call of message.voice?.calls || []) this.calls.set(call.callback_id, call);
      if (message.voice?.phone) this.trunks.set("welcome", message.voice.phone);
      this._render();
    });
    socket.on("trunk_state", (message) => {
      this.trunks.delete("welcome"); // from now on each process says its own
      this.trunks.set(message.process, { trunk: message.trunk, error: message.error });
      this._render();
    });
    socket.on("voice_state", (message) => {
      const call = message.call;
      if (call.state === "ended") {
        this.ended.add(call.callback_id);
        this.calls.delete(call.callback_id);
        this.quality.delete(call.callback_id);
        if (this.joined === call.callback_id) this._leaveLocally();
      } else {
        this.calls.set(call.callback_id, call);
      }
      this._render();
    });
    socket.on("voice_quality", (message) => {
      // Calls anchored on another process than this wall's socket arrive here too.
      for (const [id, call] of Object.entries(message.states || {})) {
        if (call.state !== "ended" && !this.ended.has(id)) this.calls.set(id, call);
      }
      for (const [id, legs] of Object.entries(message.calls || {})) this.quality.set(id, legs);
      this._render();
    });
    window.otodeskMonitor = this; // for the browser tests and the console
  }

  /** The current VoicePeer of the call we are on (a new one after a reconnect). */
  get peer() {
    return this.link?.peer || null;
  }

  async act(callbackId, mode) {
    try {
      if (mode === "leave") {
        this._leaveLocally();
        await this.socket.send("voice_control", { callback_id: callbackId, action: "leave" });
        return;
      }
      if (this.joined === callbackId && this.link) {
        await this.socket.send("voice_control", { callback_id: callbackId, action: mode });
        this.mode = mode;
        this.link.mode = mode; // a reconnect joins in the current mode
        this._render();
        return;
      }
      if (this.joined) await this.act(this.joined, "leave");
      this.joined = callbackId;
      this.mode = mode;
      const link = new VoiceLink({ socket: this.socket, callbackId, iceServers: this.iceServers, mode,
        onState: () => this._render() });
      this.link = link;
      this._render();
      await link.start();
    } catch (error) {
      this._leaveLocally();
      this.error = errorText(this.t, error); // the server's in the reader's words; the browser's as it comes
      this._render();
    }
  }

  _leaveLocally() {
    this.link?.close();
    this.link = null;
    this.joined = null;
    this.mode = null;
  }

  _renderTrunk() {
    const trunks = [...this.trunks.values()].filter((t) => t.trunk !== "off");
    this.trunkLine.hidden = !trunks.length;
    if (!trunks.length) return;
    // "registering" again after a failure is still failing (common/trunk.js).
    const bad = trunks.find(trunkFailing) || trunks.find((t) => t.trunk === "registering");
    const shown = bad || trunks[0];
    const failing = trunkFailing(shown);
    this.trunkLine.dataset.state = shown.trunk;
    this.trunkLine.dataset.warn = String(failing); // in the warning colour, not the muted grey
    this.trunkLine.classList.toggle("warn", failing);
    this.trunkLine.classList.toggle("muted", !failing);
    const TRUNK = { registered: "trunk.registered", static: "trunk.static", registering: "trunk.registering", failed: "trunk.failed" };
    const said = failing ? "failed" : shown.trunk;
    const state = TRUNK[said] ? this.t(TRUNK[said]) : said;
    setText(this.trunkLine, shown.error ? this.t("trunk.line_error", { state, error: shown.error }) : this.t("trunk.line", { state }));
  }

  _render() {
    this._renderTrunk();
    const ids = [...this.calls.keys()];
    for (const [id, row] of this.rows) {
      if (!this.calls.has(id)) {
        row.element.remove();
        this.rows.delete(id);
      }
    }
    this.list.querySelector(".empty")?.toggleAttribute("hidden", ids.length > 0);
    for (const id of ids) {
      const call = this.calls.get(id);
      let row = this.rows.get(id);
      if (!row) {
        row = this._row(id);
        this.rows.set(id, row);
        this.list.append(row.element);
      }
      const mine = this.joined === id;
      row.element.dataset.state = call.state;
      row.element.dataset.mode = mine ? this.mode : "";
      const t = this.t;
      const who = [call.customer_name || t("calls.customer"), call.agent_name || t("calls.agent"), call.queue].filter(Boolean);
      setText(row.customer, who.join(" · "));
      // A phone leg: its SIP progress (dialling, ringing) or result, beside the call's state.
      const state = call.held ? t("call.on_hold") : code(t, "call", call.state);
      setText(row.state, call.phone ? t("call.with_phone", { state, phone: code(t, "phone", call.phone.result || call.phone.state) }) : state);
      const connection = this.link?.state;
      const mode = code(t, "mode", this.mode);
      setText(row.mode, mine
        ? connection && connection !== "connected" ? t("calls.you_connecting", { mode, connection: code(t, "link", connection) }) : t("calls.you", { mode })
        : call.supervisor ? t("calls.supervised", { mode: code(t, "mode", call.supervisor) }) : "");
      for (const [mode, button] of Object.entries(row.buttons)) {
        button.setAttribute("aria-pressed", String(mine && this.mode === mode));
        button.disabled = mode === "leave" ? !mine : !mine && !!call.supervisor;
      }
      const legs = this.quality.get(id) || [];
      row.quality.replaceChildren(...legs.map((leg) => {
        const b = leg.browser || {};
        const over = (key, value) => (value ?? 0) > WARN[key];
        const warn = leg.state === "reconnecting" || over("rtt_ms", leg.rtt_ms) || over("jitter_ms", leg.jitter_ms) || over("loss", leg.loss)
          || over("loss", leg.loss_out) || over("rtt_ms", b.rtt_ms) || over("jitter_ms", b.jitter_ms) || over("loss", b.loss)
          || over("concealed_ms", b.concealed_ms);
        const title = leg.state === "reconnecting" ? t("leg.dropped") : warn ? t("leg.degraded") : "";
        const role = code(t, "role", leg.role);
        const figures = { rtt: fmt(leg.rtt_ms), jitter: fmt(leg.jitter_ms), loss: pct(leg.loss) };
        return h("span", { class: `leg ${warn ? "warn" : ""}`, title, dataset: { testid: `call-quality-${leg.role}`, warn: String(warn) } },
          t(leg.state === "reconnecting" ? "leg.server_reconnecting" : "leg.server", { role, ...figures }),
          h("span", { class: "leg-browser muted", dataset: { testid: `call-browser-${leg.role}` } },
            Object.keys(b).length ? t("leg.browser", { rtt: fmt(b.rtt_ms), jitter: fmt(b.jitter_ms), loss: pct(b.loss), concealed: fmt(b.concealed_ms) }) : ""));
      }));
    }
  }

  _row(id) {
    const button = (mode, key) => h("button", { type: "button", class: "btn", dataset: { testid: `btn-${mode}` }, onclick: () => this.act(id, mode) }, this.t(key));
    const row = {
      customer: h("span", { class: "call-who", translate: "no", dataset: { testid: "call-customer" } }),
      state: h("span", { class: "call-state", dataset: { testid: "call-state" } }),
      mode: h("span", { class: "call-mode muted", dataset: { testid: "call-mode" } }),
      quality: h("div", { class: "call-quality", dataset: { testid: "call-quality" } }),
      buttons: { listen: button("listen", "calls.listen"), whisper: button("whisper", "calls.whisper"), barge: button("barge", "calls.barge"), leave: button("leave", "calls.leave") },
    };
    row.element = h("div", { class: "voice-call", dataset: { testid: `voice-call-${id}` } },
      h("div", { class: "call-head" }, row.customer, row.state, row.mode),
      row.quality,
      h("div", { class: "call-actions" }, ...Object.values(row.buttons)));
    return row;
  }
}

function pct(value) {
  return value == null ? "–" : `${(value * 100).toFixed(1)}%`;
}

/** Milliseconds, rounded (the unit is in the message). */
function fmt(value) {
  return value == null ? "–" : String(Math.round(value));
}

// The server's codes (call and phone-leg states, modes, leg roles) and their messages; a code
// not listed shows as it came.
const CODES = {
  call: { active: "call.active", held: "call.on_hold", ended: "call.ended" }, // signaling/media/anchor.py
  phone: { // signaling/media/sip/trunk.py: PhoneState, then CallResult
    dialling: "phone.dialling", ringing: "phone.ringing", connected: "phone.connected", ended: "phone.ended",
    completed: "phone.completed", busy: "phone.busy", no_answer: "phone.no_answer", rejected: "phone.rejected",
    failed: "phone.failed", cancelled: "phone.cancelled",
  },
  mode: { listen: "mode.listen", whisper: "mode.whisper", barge: "mode.barge" },
  link: { new: "link.new", connecting: "link.connecting", reconnecting: "link.reconnecting", failed: "link.failed", closed: "link.closed", disconnected: "link.disconnected" },
  role: { customer: "leg.customer", agent: "leg.agent", supervisor: "leg.supervisor" },
};
function code(t, kind, value) {
  const key = CODES[kind][value];
  return key ? t(key) : String(value ?? "");
}
