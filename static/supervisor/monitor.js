// Live calls on the wall: listen, whisper, barge, leave; each leg's quality.
//
//   new CallMonitor({ socket, root })   // listens to welcome / voice_state / voice_quality itself
//
// The supervisor joins a call with one RTCPeerConnection (common/voicepeer.js):
// slot 0 plays the customer, slot 1 the agent; the supervisor's microphone is
// heard only in whisper (by the agent) and barge (by both).
//
// Test ids: voice-calls, voice-call-<callback_id> (data-state, data-mode) with
// call-customer, call-state, call-mode, call-quality, call-quality-<role>
// (data-warn="true" when the leg degrades), btn-listen, btn-whisper, btn-barge, btn-leave.
import { h, setText } from "../common/dom.js";
import { VoicePeer } from "../common/voicepeer.js";

const WARN = { rtt_ms: 300, jitter_ms: 30, loss: 0.05 }; // a leg beyond any of these is degraded

export class CallMonitor {
  constructor({ socket, root }) {
    this.socket = socket;
    this.iceServers = [];
    this.calls = new Map(); // callback_id -> call
    this.quality = new Map(); // callback_id -> [leg stats]
    this.ended = new Set(); // calls seen ending: a late quality report must not bring them back
    this.rows = new Map();
    this.joined = null; // callback_id we are on
    this.peer = null;
    this.mode = null;
    this.list = h("div", { class: "voice-call-list" }, h("p", { class: "muted empty" }, "No calls in progress."));
    this.section = h("section", { class: "card voice-calls", "aria-labelledby": "calls-title", dataset: { testid: "voice-calls" } },
      h("h2", { id: "calls-title" }, "Live calls"), this.list);
    root.prepend(this.section);
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/supervisor/monitor.css";
    document.head.append(link);

    socket.on("welcome", (message) => {
      this.iceServers = message.voice?.ice_servers || [];
      this.calls.clear();
      for (const call of message.voice?.calls || []) this.calls.set(call.callback_id, call);
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

  async act(callbackId, mode) {
    try {
      if (mode === "leave") {
        this._leaveLocally();
        await this.socket.send("voice_control", { callback_id: callbackId, action: "leave" });
        return;
      }
      if (this.joined === callbackId && this.peer) {
        await this.socket.send("voice_control", { callback_id: callbackId, action: mode });
        this.mode = mode;
        this._render();
        return;
      }
      if (this.joined) await this.act(this.joined, "leave");
      this.joined = callbackId;
      this.mode = mode;
      const peer = new VoicePeer({ iceServers: this.iceServers, onState: () => this._render() });
      this.peer = peer;
      this._render();
      await peer.start(async (sdp) => {
        const ack = await this.socket.send("voice_offer", { callback_id: callbackId, sdp, mode });
        return ack.sdp;
      });
    } catch (error) {
      this._leaveLocally();
      this.error = `${error.message}`;
      this._render();
    }
  }

  _leaveLocally() {
    this.peer?.close();
    this.peer = null;
    this.joined = null;
    this.mode = null;
  }

  _render() {
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
      setText(row.customer, `${call.customer_name || "Customer"} · ${call.agent_name || "agent"}${call.queue ? ` · ${call.queue}` : ""}`);
      setText(row.state, call.held ? "on hold" : call.state);
      const connection = this.peer?.pc?.connectionState;
      setText(row.mode, mine ? `you: ${this.mode}${connection && connection !== "connected" ? ` (${connection})` : ""}` : call.supervisor ? `supervised (${call.supervisor})` : "");
      for (const [mode, button] of Object.entries(row.buttons)) {
        button.setAttribute("aria-pressed", String(mine && this.mode === mode));
        button.disabled = mode === "leave" ? !mine : !mine && !!call.supervisor;
      }
      const legs = this.quality.get(id) || [];
      row.quality.replaceChildren(...legs.map((leg) => {
        const warn = (leg.rtt_ms ?? 0) > WARN.rtt_ms || (leg.jitter_ms ?? 0) > WARN.jitter_ms || (leg.loss ?? 0) > WARN.loss || (leg.loss_out ?? 0) > WARN.loss;
        return h("span", { class: `leg ${warn ? "warn" : ""}`, title: warn ? "This leg is degraded" : "", dataset: { testid: `call-quality-${leg.role}`, warn: String(warn) } },
          `${leg.role}: RTT ${fmt(leg.rtt_ms, " ms")} · jitter ${fmt(leg.jitter_ms, " ms")} · loss ${leg.loss == null ? "–" : `${(leg.loss * 100).toFixed(1)}%`}`);
      }));
    }
  }

  _row(id) {
    const button = (mode, text) => h("button", { type: "button", class: "btn", dataset: { testid: `btn-${mode}` }, onclick: () => this.act(id, mode) }, text);
    const row = {
      customer: h("span", { class: "call-who", dataset: { testid: "call-customer" } }),
      state: h("span", { class: "call-state", dataset: { testid: "call-state" } }),
      mode: h("span", { class: "call-mode muted", dataset: { testid: "call-mode" } }),
      quality: h("div", { class: "call-quality", dataset: { testid: "call-quality" } }),
      buttons: { listen: button("listen", "Listen"), whisper: button("whisper", "Whisper"), barge: button("barge", "Barge"), leave: button("leave", "Leave") },
    };
    row.element = h("div", { class: "voice-call", dataset: { testid: `voice-call-${id}` } },
      h("div", { class: "call-head" }, row.customer, row.state, row.mode),
      row.quality,
      h("div", { class: "call-actions" }, ...Object.values(row.buttons)));
    return row;
  }
}

function fmt(value, unit) {
  return value == null ? "–" : `${Math.round(value)}${unit}`;
}
