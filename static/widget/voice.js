// Voice in the widget, fetched only when a "talk in the browser" callback is
// connected: one RTCPeerConnection to the server's media anchor, the call's
// state and a mute and hang-up button in the status panel.
//
//   const controller = start(socket, { ui, iceServers, api });  // api: window.otodesk
//   controller.update(callback);   // every CallbackStatus
//
// Test ids (in the widget's shadow root): otodesk-voice (data-state
// connecting|active|held|reconnecting|ended|failed), otodesk-voice-state, otodesk-mute
// (aria-pressed), otodesk-hangup. `otodesk.voice` is the controller (peak(), level()).
import { h, setText } from "../common/dom.js";
import { VoiceLink } from "../common/voicelink.js";
import { microphoneProblem } from "../common/voicepeer.js";
import { errorText } from "./errors.js";

const css = `
.voice { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .75rem 0; }
.voice .voice-state { flex: 1 1 100%; font-weight: 600; margin: 0; }
.voice .voice-consent { flex: 1 1 100%; display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.voice .voice-consent p { flex: 1 1 100%; margin: 0; }
.voice[data-state="held"] .voice-state { color: #b26b00; }
.voice[data-state="failed"] .voice-state { color: #b00020; }
`;

// Why the browser gave no microphone (common/voicepeer.js), in the reader's words.
const MICROPHONE_SAID = { no_microphone: "voice.no_microphone", microphone_refused: "voice.microphone_refused",
  microphone_busy: "voice.microphone_busy" };

export function start(socket, options) {
  return new WidgetVoice(socket, options);
}

class WidgetVoice {
  constructor(socket, { ui, iceServers = [], api = null, language = ui.language }) {
    this.socket = socket;
    this.language = language; // language.js: the customer's words
    const { t } = language;
    this.iceServers = iceServers;
    this.callbackId = null;
    this.link = null; // common/voicelink.js: the leg, remade when the network drops it
    this.call = null;
    this.muted = false;
    const style = document.createElement("style");
    style.textContent = css;
    ui.root.append(style);
    this.stateLine = h("p", { class: "voice-state", role: "status", dataset: { testid: "otodesk-voice-state" } });
    this.muteButton = h("button", { type: "button", class: "secondary", "aria-pressed": "false", dataset: { testid: "otodesk-mute" },
      onclick: () => this._mute(!this.muted) }, t("voice.mute"));
    this.hangupButton = h("button", { type: "button", class: "secondary", dataset: { testid: "otodesk-hangup" },
      onclick: () => this._hangup() }, t("voice.hang_up"));
    // Recording with consent: asked before anything is recorded; the answer is final.
    this.consent = h("div", { class: "voice-consent", hidden: true, dataset: { testid: "otodesk-record-consent" } },
      h("p", {}, t("voice.consent")),
      h("button", { type: "button", class: "secondary", dataset: { testid: "otodesk-record-yes" }, onclick: () => this._consent(true) }, t("voice.consent_yes")),
      h("button", { type: "button", class: "secondary", dataset: { testid: "otodesk-record-no" }, onclick: () => this._consent(false) }, t("voice.consent_no")));
    this.element = h("div", { class: "voice", hidden: true, dataset: { testid: "otodesk-voice", state: "idle" } },
      this.stateLine, this.consent, this.muteButton, this.hangupButton);
    ui.status.append(this.element);
    socket.on("voice_state", (message) => this._state(message.call));
    socket.on("welcome", (message) => {
      this.iceServers = message.voice?.ice_servers || this.iceServers;
      for (const call of message.voice?.calls || []) this._state(call);
    });
    if (api) api.voice = this;
    setInterval(() => this._render(), 500);
  }

  update(callback) {
    const live = callback && callback.channel === "browser" && callback.state === "connected";
    if (!live) return this._stop();
    if (this.callbackId === callback.id && this.link) return;
    this._start(callback.id);
  }

  get peer() {
    return this.link?.peer || null;
  }

  peak(slot) {
    return this.peer ? this.peer.peak(slot) : null;
  }

  level(slot) {
    return this.peer ? this.peer.level(slot) : 0;
  }

  async _start(callbackId) {
    this._stop();
    this.callbackId = callbackId;
    const link = new VoiceLink({ socket: this.socket, callbackId, iceServers: this.iceServers, muted: this.muted,
      onState: () => this._render(), onCall: (call) => this._state(call) });
    this.link = link;
    this._render();
    try {
      await link.start();
    } catch (error) {
      if (this.link === link) {
        link.close();
        this.failed = error || { message: "failed" };
        const problem = microphoneProblem(error);
        if (problem) this.socket.notify("voice_problem", { callback_id: callbackId, problem });
      }
    }
    this._render();
  }

  _stop() {
    this.link?.close();
    this.link = null;
    this.callbackId = null;
    this.call = null;
    this.failed = null;
    this._render();
  }

  _state(call) {
    if (!call || call.callback_id !== this.callbackId) return;
    this.call = call;
    if (call.state === "ended") {
      this.link?.close();
      this.link = null;
    } else if (call.legs?.customer === "reconnecting") {
      this.link?.anchorLost();
    }
    this._render();
  }

  async _mute(muted) {
    if (!this.callbackId) return;
    this.muted = muted;
    this.link?.setMuted(muted);
    this._render();
    try {
      await this.socket.send("voice_control", { callback_id: this.callbackId, action: muted ? "mute" : "unmute" });
    } catch {
      /* the microphone track is disabled anyway */
    }
  }

  async _consent(given) {
    if (!this.callbackId) return;
    this.consent.hidden = true;
    try {
      const ack = await this.socket.send("voice_control", { callback_id: this.callbackId, action: given ? "consent" : "refuse" });
      if (ack.call) this._state(ack.call);
    } catch {
      this._render();
    }
  }

  async _hangup() {
    if (!this.callbackId) return;
    const callbackId = this.callbackId;
    this.link?.close();
    this.link = null;
    this.call = { ...(this.call || {}), state: "ended" };
    this._render();
    await this.socket.send("voice_control", { callback_id: callbackId, action: "hangup" }).catch(() => {});
  }

  /** Why the call failed: the microphone, or the server's, in our words by its code; the
   * browser's (English, and technical) only for an English reader. */
  failedText() {
    const { t } = this.language;
    const microphone = microphoneProblem(this.failed);
    if (microphone) return t("voice.failed_because", { reason: t(MICROPHONE_SAID[microphone]) });
    // (a DOMException's code is a number of its own: only the server's codes are ours)
    if (typeof this.failed?.code === "string") {
      return t("voice.failed_because", { reason: errorText(this.failed, this.language) });
    }
    const reason = this.failed?.message;
    return reason && this.language.locale === "en" ? t("voice.failed_because", { reason }) : t("voice.failed");
  }

  _render() {
    this.element.hidden = !this.callbackId;
    if (!this.callbackId) return;
    const link = this.link?.state;
    const state = this.call?.state === "ended" ? "ended"
      : this.failed || link === "failed" ? "failed"
      : link === "reconnecting" ? "reconnecting"
      : link !== "connected" ? "connecting"
      : this.call?.held ? "held" : "active";
    this.element.dataset.state = state;
    const { t } = this.language;
    // Separate facts, each a whole phrase of the catalogue, shown side by side.
    const facts = [{
      connecting: t("voice.connecting"),
      active: t("voice.active"),
      held: t("voice.held"),
      reconnecting: t("voice.reconnecting"),
      ended: t("voice.ended"),
      failed: this.failedText(),
    }[state]];
    if (state === "active" && this.muted) facts.push(t("voice.muted"));
    if (this.call?.recording && state !== "ended") facts.push(t("voice.recorded"));
    // The server tells what the site's policy says (OTODESK_SUPERVISOR_NOTICE): barge only, or all.
    if (state !== "ended" && this.call?.supervisor) facts.push(t(this.call.supervisor === "barge" ? "voice.supervisor_joined" : "voice.supervisor_listening"));
    setText(this.stateLine, facts.join(t("voice.separator")));
    if (["active", "held"].includes(state) && ["failed", "disconnected", "closed", "reconnecting"].includes(this.call?.legs?.agent)) {
      setText(this.stateLine, t("voice.agent_dropped"));
    }
    this.consent.hidden = !(this.call?.consent === "asked" && state !== "ended");
    this.muteButton.setAttribute("aria-pressed", String(this.muted));
    setText(this.muteButton, t(this.muted ? "voice.unmute" : "voice.mute"));
    this.muteButton.disabled = this.hangupButton.disabled = state === "ended";
    this.muteButton.hidden = state === "failed";  // no microphone to mute; hanging up still ends the call
  }
}
