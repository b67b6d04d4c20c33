// Voice in the desk: when a "talk in the browser" contact is connected, the
// desk joins the call on the server's media anchor (common/voicepeer.js) and
// shows talk time, a level meter for each voice, mute, hold and hang up.
//
//   new DeskVoice({ socket, root })   // listens to welcome / contact / voice_state itself
//
// Test ids: voice-panel (data-state: connecting|active|held|ended|failed),
// voice-state, voice-talk-time, voice-meter-agent, voice-meter-customer,
// voice-meter-extra, voice-supervisor, btn-mute (aria-pressed), btn-hold (aria-pressed), btn-hangup.
import { h, setText } from "../common/dom.js";
import { toast } from "../common/toast.js";
import { VoicePeer } from "../common/voicepeer.js";

export class DeskVoice {
  constructor({ socket, root }) {
    this.socket = socket;
    this.root = root;
    this.iceServers = [];
    this.callbackId = null; // the call we are in (or joining)
    this.peer = null;
    this.call = null; // last voice_state.call
    this.startedAt = null;
    this.panel = this._build();
    const slot = root.querySelector("[data-contact-slot]");
    slot.parentNode.insertBefore(this.panel, slot);
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/desk/voice.css";
    document.head.append(link);

    socket.on("welcome", (message) => {
      this.iceServers = message.voice?.ice_servers || [];
      const call = (message.voice?.calls || [])[0];
      if (call) this._state(call);
      this._contact(message.contact);
    });
    socket.on("contact", (message) => this._contact(message.contact));
    socket.on("agent_state", (message) => {
      if (!["busy"].includes(message.state?.state)) this._stop();
    });
    socket.on("voice_state", (message) => this._state(message.call));
    setInterval(() => this._tick(), 200);
    window.otodeskDeskVoice = this; // for the browser tests and the console
  }

  _contact(contact) {
    const live = contact && contact.state === "connected" && contact.callback?.channel === "browser";
    if (!live) {
      this._stop();
      return;
    }
    if (this.callbackId === contact.callback_id && this.peer) return;
    this._start(contact.callback_id, contact.answered_at);
  }

  async _start(callbackId, answeredAt) {
    this._stop();
    this.callbackId = callbackId;
    this.startedAt = answeredAt || this.socket.serverNow();
    this.call = null;
    const peer = new VoicePeer({ iceServers: this.iceServers, onState: (state) => {
      this._render(state);
      if (state === "failed") this._retry(callbackId, peer);
    } });
    this.peer = peer;
    this._render("connecting");
    try {
      await peer.start(async (sdp) => {
        const ack = await this.socket.send("voice_offer", { callback_id: callbackId, sdp });
        if (ack.call) this._state(ack.call);
        return ack.sdp;
      });
    } catch (error) {
      if (this.peer !== peer) return;
      this._render("failed");
      toast(`Voice: ${error.message}`, { kind: "error", seconds: 8 });
    }
  }

  /** A leg that failed (network change, sleep) is offered again: the server replaces it. */
  _retry(callbackId, peer) {
    if (this.peer !== peer || this.call?.state === "ended" || (this.retries = (this.retries || 0) + 1) > 3) return;
    setTimeout(() => {
      if (this.peer === peer && this.callbackId === callbackId) this._start(callbackId, this.startedAt);
    }, 1000 * this.retries);
  }

  _stop() {
    this.peer?.close();
    this.peer = null;
    this.callbackId = null;
    this.call = null;
    this._render();
  }

  _state(call) {
    if (!call) return;
    if (this.callbackId && call.callback_id !== this.callbackId) return;
    this.call = call;
    if (call.started_at && !this.startedAt) this.startedAt = call.started_at;
    if (call.state === "ended") {
      this.peer?.close();
      this.peer = null;
    }
    this._render();
  }

  async _control(action) {
    if (!this.callbackId) return;
    try {
      const ack = await this.socket.send("voice_control", { callback_id: this.callbackId, action });
      if (ack.call) this._state(ack.call);
      if (action === "mute" || action === "unmute") this.peer?.setMuted(action === "mute");
    } catch (error) {
      toast(`Voice: ${error.message}`, { kind: "error", seconds: 8 });
    }
  }

  _build() {
    const meter = (testid, text) => h("label", { class: "voice-meter" }, text,
      h("meter", { min: "0", max: "1", value: "0", dataset: { testid } }));
    this.stateText = h("span", { class: "voice-state", dataset: { testid: "voice-state" } });
    this.timer = h("span", { class: "voice-timer", dataset: { testid: "voice-talk-time" } }, "0:00");
    this.supervisorLine = h("span", { class: "voice-supervisor muted", dataset: { testid: "voice-supervisor" } });
    this.meters = {
      mic: meter("voice-meter-agent", "You"),
      0: meter("voice-meter-customer", "Customer"),
      1: meter("voice-meter-extra", "Supervisor"),
    };
    this.muteButton = h("button", { type: "button", class: "btn", "aria-pressed": "false", dataset: { testid: "btn-mute" },
      onclick: () => this._control(this.muteButton.getAttribute("aria-pressed") === "true" ? "unmute" : "mute") }, "Mute");
    this.holdButton = h("button", { type: "button", class: "btn", "aria-pressed": "false", dataset: { testid: "btn-hold" },
      onclick: () => this._control(this.call?.held ? "resume" : "hold") }, "Hold");
    this.hangupButton = h("button", { type: "button", class: "btn danger", dataset: { testid: "btn-hangup" },
      onclick: () => this._control("hangup") }, "Hang up");
    return h("section", { class: "voice card", hidden: true, "aria-label": "Voice call", dataset: { testid: "voice-panel", state: "idle" } },
      h("div", { class: "voice-head" }, h("span", { "aria-hidden": "true" }, "🎙️"), this.stateText, this.timer, this.supervisorLine),
      h("div", { class: "voice-meters" }, this.meters.mic, this.meters[0], this.meters[1]),
      h("div", { class: "voice-actions" }, this.muteButton, this.holdButton, this.hangupButton));
  }

  _render(connection) {
    const panel = this.panel;
    panel.hidden = !this.callbackId;
    if (!this.callbackId) {
      panel.dataset.state = "idle";
      return;
    }
    const pc = this.peer?.pc?.connectionState;
    let state = this.call?.state === "ended" ? "ended"
      : connection === "failed" || pc === "failed" ? "failed"
      : pc !== "connected" ? "connecting"
      : this.call?.held ? "held" : "active";
    panel.dataset.state = state;
    const muted = (this.call?.muted || []).includes("agent");
    setText(this.stateText, { connecting: "Connecting voice…", active: muted ? "On a call (muted)" : "On a call",
      held: "On hold", ended: "Call ended", failed: "Voice failed" }[state] + (this.call?.recording && state !== "ended" ? " · recording" : ""));
    this.muteButton.setAttribute("aria-pressed", String(muted));
    setText(this.muteButton, muted ? "Unmute" : "Mute");
    this.holdButton.setAttribute("aria-pressed", String(!!this.call?.held));
    setText(this.holdButton, this.call?.held ? "Resume" : "Hold");
    const supervisor = this.call?.supervisor;
    const customerLeg = this.call?.legs?.customer;
    if (state === "active" && ["failed", "disconnected", "closed"].includes(customerLeg)) {
      setText(this.stateText, "The customer's connection dropped: waiting for them to reconnect…");
    }
    setText(this.supervisorLine, supervisor ? { listen: "A supervisor is listening", whisper: "Your supervisor is coaching you", barge: "Your supervisor joined the call" }[supervisor] : "");
    this.meters[1].hidden = !supervisor || supervisor === "listen";
    for (const button of [this.muteButton, this.holdButton, this.hangupButton]) button.disabled = state === "ended";
  }

  _tick() {
    if (!this.callbackId) return;
    if (this.startedAt) {
      const seconds = Math.max(0, Math.floor(this.socket.serverNow() - this.startedAt));
      setText(this.timer, `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`);
    }
    for (const which of ["mic", 0, 1]) {
      const level = this.peer ? Math.min(1, this.peer.level(which) * 3) : 0;
      this.meters[which].querySelector("meter").value = level;
    }
    if (this.peer?.pc && this.panel.dataset.state === "connecting") this._render();
  }
}
