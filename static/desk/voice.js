// Voice in the desk: when a "talk in the browser" contact is connected, the
// desk joins the call on the server's media anchor (common/voicepeer.js) and
// shows talk time, a level meter for each voice, mute, hold and hang up.
//
//   new DeskVoice({ socket, root })   // listens to welcome / contact / voice_state itself
//
// A leg that drops is remade (common/voicelink.js): the panel says
// "Reconnecting…" meanwhile; a reload re-offers and takes the leg over.
//
// Test ids: voice-panel (data-state: connecting|active|held|reconnecting|ended|failed),
// voice-state, voice-talk-time, voice-meter-agent, voice-meter-customer,
// voice-meter-extra, voice-supervisor, btn-mute (aria-pressed), btn-hold (aria-pressed), btn-hangup.
import { errorText } from "../common/errors.js";
import { h, setText } from "../common/dom.js";
import { icon } from "../common/icons.js";
import { toast } from "../common/toast.js";
import { VoiceLink } from "../common/voicelink.js";
import { microphoneProblem } from "../common/voicepeer.js";
import { trunkFailing } from "../common/trunk.js";
import { t } from "./i18n.js";

// This browser's microphone problem (common/voicepeer.js), in the agent's words.
const MICROPHONE_SAID = { no_microphone: "voice.no_microphone", microphone_refused: "voice.microphone_refused",
  microphone_busy: "voice.microphone_busy" };
const voiceError = (error) => {
  const problem = microphoneProblem(error);
  return problem ? t(MICROPHONE_SAID[problem]) : t("voice.error", { error: errorText(t, error) });
};

// The customer's browser can't talk (voice_problem from their widget), in the agent's words.
const CUSTOMER_PROBLEM = { no_microphone: "voice.customer_no_microphone",
  microphone_refused: "voice.customer_microphone_refused", microphone_busy: "voice.customer_microphone_busy" };

const PHONE_ENDS = { completed: "voice.phone_hung_up", busy: "voice.phone_busy", no_answer: "voice.phone_no_answer",
  rejected: "voice.phone_rejected", cancelled: "voice.phone_cancelled" };

/** The warning the desk shows while its process's SIP trunk fails (welcome's `voice.phone`,
 * then `trunk_state`: common/trunk.js), else "". */
export function trunkWarning(phone) {
  if (!trunkFailing(phone)) return "";
  return phone.error ? t("voice.trunk_failing_reason", { reason: phone.error }) : t("voice.trunk_failing");
}

/** The panel's talk time. A phone the server dials talks from its answer: no timer while it is
 * dialled or rings, none after a busy or unanswered attempt (it counted the ringing: "Busy 0:03").
 * Its answer is when this page saw it; a page loaded mid-call knows only the call's start. */
export class TalkClock {
  constructor(startedAt, { dialled = false } = {}) {
    this.startedAt = startedAt;
    this.dialled = dialled;
    this.rang = false;
    this.answeredAt = null;
    this.endedAt = null; // the time stops with the call (the wrap-up's attempt line says the same)
  }

  /** A voice_state's `call`, seen at `now` (server seconds). */
  saw(call, now) {
    const phone = call?.phone;
    if (call?.state === "ended") this.endedAt ||= now;
    if (!phone || phone.inbound) { // an inbound caller's call talks from the agent's arrival
      this.startedAt ||= call?.started_at;
      return;
    }
    this.dialled = true;
    if (phone.state === "dialling" || phone.state === "ringing") this.rang = true;
    else if (phone.state === "connected" && !this.answeredAt) this.answeredAt = this.rang ? now : call.started_at || now;
  }

  /** Whole seconds talked at `now`, or null: no talk timer. */
  seconds(now) {
    const since = this.dialled ? this.answeredAt : this.startedAt;
    return since ? Math.max(0, Math.floor(Math.min(now, this.endedAt || now) - since)) : null;
  }
}

/** What the agent is told of the phone being dialled (voice_state's `phone`); "" once it talks. */
export function phoneText(phone) {
  if (phone.state === "dialling") return t("voice.dialling", { number: phone.number });
  if (phone.state === "ringing") return t("voice.ringing", { number: phone.number });
  if (phone.state === "connected") return phone.held ? t("voice.phone_held") : ""; // their re-INVITE put us on hold
  if (phone.result === "refused") return phone.reason ? t("voice.not_dialled_reason", { reason: phone.reason }) : t("voice.not_dialled_limit");
  // The agent's own hang-up (or ours): not the customer's nor the caller's.
  if (phone.result === "completed" && phone.hung_up_by_us) return t("voice.ended");
  if (phone.result === "completed" && phone.inbound) return t("voice.caller_hung_up");
  if (PHONE_ENDS[phone.result]) return t(PHONE_ENDS[phone.result]);
  // The SIP reason is the far end's own words.
  return phone.reason ? t("voice.phone_failed_reason", { reason: phone.reason }) : t("voice.phone_failed");
}

export class DeskVoice {
  constructor({ socket, root }) {
    this.socket = socket;
    this.root = root;
    this.iceServers = [];
    this.callbackId = null; // the call we are in (or joining)
    this.link = null;
    this.call = null; // last voice_state.call
    this.talk = null; // TalkClock
    this.panel = this._build();
    const slot = root.querySelector("[data-contact-slot]");
    slot.parentNode.insertBefore(this.panel, slot);
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/desk/voice.css";
    document.head.append(link);

    socket.on("welcome", (message) => {
      this.iceServers = message.voice?.ice_servers || [];
      this.phoneDials = (message.voice?.phone?.trunk || "off") !== "off";
      const call = (message.voice?.calls || [])[0];
      if (call) this._state(call);
      this._contact(message.contact);
    });
    socket.on("contact", (message) => this._contact(message.contact));
    socket.on("agent_state", (message) => {
      // A phone that was busy or never answered stays said through wrap-up (the agent picks the outcome).
      const phoneOutcome = this.call?.phone && this.call.state === "ended" && message.state?.state === "wrap_up";
      if (!["busy"].includes(message.state?.state) && !phoneOutcome) this._stop();
    });
    socket.on("voice_state", (message) => this._state(message.call));
    socket.on("voice_problem", (message) => this._customerProblem(message));
    setInterval(() => this._tick(), 200);
    window.otodeskDeskVoice = this; // for the browser tests and the console
  }

  _contact(contact) {
    // A phone callback joins the anchor too when a SIP trunk dials it (agent-first: the phone is
    // dialled once this leg is up); without a trunk the agent dials by hand.
    const channel = contact?.callback?.channel;
    // A caller who phoned in waits on the server's anchor already: the desk joins that call.
    const live = contact && contact.state === "connected"
      && (channel === "browser" || channel === "phone_inbound" || (channel === "phone" && this.phoneDials));
    if (!live) {
      const phoneOutcome = contact?.state === "wrap_up" && contact.callback_id === this.callbackId && this.call?.phone;
      if (!phoneOutcome) this._stop();
      return;
    }
    if (this.callbackId === contact.callback_id && this.link) return;
    this._start(contact.callback_id, contact.answered_at, channel);
  }

  /** Seconds the phone the server dials on `callbackId` has talked, null before its answer (or
   * never answered), undefined for any other call (the contact card's timer: contact.js). */
  talked(callbackId) {
    if (callbackId !== this.callbackId || !this.talk?.dialled) return undefined;
    return this.talk.seconds(this.socket.serverNow());
  }

  /** The current VoicePeer (meters, peak); a new one after each reconnect. */
  get peer() {
    return this.link?.peer || null;
  }

  async _start(callbackId, answeredAt, channel) {
    this._stop();
    this.callbackId = callbackId;
    this.talk = new TalkClock(answeredAt || this.socket.serverNow(), { dialled: channel === "phone" });
    this.call = null;
    const link = new VoiceLink({ socket: this.socket, callbackId, iceServers: this.iceServers,
      onState: () => this._render(), onCall: (call) => this._state(call) });
    this.link = link;
    this._render();
    try {
      await link.start();
    } catch (error) {
      if (this.link !== link) return;
      link.close();
      this.failed = true;
      this._render();
      toast(voiceError(error), { kind: "error", seconds: 8 });
    }
  }

  _stop() {
    this.link?.close();
    this.link = null;
    this.failed = false;
    this.callbackId = null;
    this.call = null;
    this.customerProblem = null;
    this._render();
  }

  /** The customer's browser can't talk (no microphone...): said in the panel and once as a toast. */
  _customerProblem({ callback_id: callbackId, problem }) {
    if (callbackId !== this.callbackId || this.customerProblem === problem || !CUSTOMER_PROBLEM[problem]) return;
    this.customerProblem = problem;
    this._render();
    toast(t(CUSTOMER_PROBLEM[problem]), { kind: "error", seconds: 12 });
  }

  _state(call) {
    if (!call) return;
    if (this.callbackId && call.callback_id !== this.callbackId) return;
    this.call = call;
    this.talk?.saw(call, this.socket.serverNow());
    if (call.state === "ended") {
      this.link?.close();
      this.link = null;
    } else if (call.legs?.agent === "reconnecting") {
      this.link?.anchorLost();
    }
    this._render();
  }

  async _control(action, fields = {}) {
    if (!this.callbackId) return;
    try {
      const ack = await this.socket.send("voice_control", { callback_id: this.callbackId, action, ...fields });
      if (ack.call) this._state(ack.call);
      if (action === "mute" || action === "unmute") this.link?.setMuted(action === "mute");
    } catch (error) {
      toast(voiceError(error), { kind: "error", seconds: 8 });
    }
  }

  _build() {
    const meter = (testid, text) => h("label", { class: "voice-meter" }, text,
      h("meter", { min: "0", max: "1", value: "0", dataset: { testid } }));
    this.stateText = h("span", { class: "voice-state", dataset: { testid: "voice-state" } });
    this.timer = h("span", { class: "voice-timer", dataset: { testid: "voice-talk-time" } }, "0:00");
    this.supervisorLine = h("span", { class: "voice-supervisor muted", dataset: { testid: "voice-supervisor" } });
    this.meters = {
      mic: meter("voice-meter-agent", t("voice.you")),
      0: meter("voice-meter-customer", t("voice.customer")),
      1: meter("voice-meter-extra", t("voice.supervisor")),
    };
    this.muteButton = h("button", { type: "button", class: "btn", "aria-pressed": "false", dataset: { testid: "btn-mute" },
      onclick: () => this._control(this.muteButton.getAttribute("aria-pressed") === "true" ? "unmute" : "mute") }, t("voice.mute"));
    this.holdButton = h("button", { type: "button", class: "btn", "aria-pressed": "false", dataset: { testid: "btn-hold" },
      onclick: () => this._control(this.call?.held ? "resume" : "hold") }, t("voice.hold"));
    this.hangupButton = h("button", { type: "button", class: "btn danger", dataset: { testid: "btn-hangup" },
      onclick: () => this._control("hangup") }, t("voice.hang_up"));
    // A phone call's keypad: digits go to the far end as RFC 4733 events (menus, extensions).
    this.keypad = h("div", { class: "voice-keypad", role: "group", "aria-label": t("voice.keypad"), hidden: true, dataset: { testid: "voice-keypad" } },
      [..."123456789*0#"].map((digit) => h("button", { type: "button", class: "btn key", dataset: { testid: `btn-dtmf-${digit}` },
        "aria-label": t("voice.dial", { digit }), onclick: () => this._control("dtmf", { digits: digit }) }, digit)));
    return h("section", { class: "voice card", hidden: true, "aria-label": t("voice.call"), dataset: { testid: "voice-panel", state: "idle" } },
      h("div", { class: "voice-head" }, h("span", { class: "voice-icon", "aria-hidden": "true" }, icon("mic")), this.stateText, this.timer, this.supervisorLine),
      h("div", { class: "voice-meters" }, this.meters.mic, this.meters[0], this.meters[1]),
      h("div", { class: "voice-actions" }, this.muteButton, this.holdButton, this.hangupButton),
      this.keypad);
  }

  _render() {
    const panel = this.panel;
    panel.hidden = !this.callbackId;
    if (!this.callbackId) {
      panel.dataset.state = "idle";
      return;
    }
    const link = this.link?.state;
    let state = this.call?.state === "ended" ? "ended"
      : this.failed || link === "failed" ? "failed"
      : link === "reconnecting" ? "reconnecting"
      : link !== "connected" ? "connecting"
      : this.call?.held ? "held" : "active";
    panel.dataset.state = state;
    const muted = (this.call?.muted || []).includes("agent");
    const recording = (text) => (this.call?.recording ? t("voice.recording", { state: text }) : text);
    const stateText = t({ connecting: "voice.connecting", active: muted ? "voice.active_muted" : "voice.active",
      held: "voice.held", reconnecting: "voice.reconnecting", ended: "voice.ended", failed: "voice.failed" }[state]);
    setText(this.stateText, state !== "ended" ? recording(stateText) : stateText);
    this.muteButton.setAttribute("aria-pressed", String(muted));
    setText(this.muteButton, t(muted ? "voice.unmute" : "voice.mute"));
    this.holdButton.setAttribute("aria-pressed", String(!!this.call?.held));
    setText(this.holdButton, t(this.call?.held ? "voice.resume" : "voice.hold"));
    const phone = this.call?.phone;
    this.panel.dataset.phone = phone ? (phone.result || phone.state) : "";
    this.keypad.hidden = phone?.state !== "connected" || state === "ended";
    if (phone && state !== "failed") {
      const text = phoneText(phone);
      if (text) setText(this.stateText, phone.state === "connected" ? recording(text) : text);
    }
    const supervisor = this.call?.supervisor;
    const customerLeg = this.call?.legs?.customer;
    if (["active", "held"].includes(state) && ["failed", "disconnected", "closed", "reconnecting"].includes(customerLeg)) {
      setText(this.stateText, t("voice.customer_dropped"));
    }
    if (this.customerProblem && state !== "ended" && !customerLeg) setText(this.stateText, t(CUSTOMER_PROBLEM[this.customerProblem]));
    this.panel.dataset.customerProblem = this.customerProblem || "";
    const SUPERVISOR = { listen: "voice.supervisor_listen", whisper: "voice.supervisor_whisper", barge: "voice.supervisor_barge" };
    setText(this.supervisorLine, SUPERVISOR[supervisor] ? t(SUPERVISOR[supervisor]) : "");
    this.meters[1].hidden = !supervisor || supervisor === "listen";
    for (const button of [this.muteButton, this.holdButton, this.hangupButton]) button.disabled = state === "ended";
  }

  _tick() {
    if (!this.callbackId) return;
    const seconds = this.talk?.seconds(this.socket.serverNow()) ?? null;
    setText(this.timer, seconds === null ? "" : `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`);
    for (const which of ["mic", 0, 1]) {
      const level = this.peer ? Math.min(1, this.peer.level(which) * 3) : 0;
      this.meters[which].querySelector("meter").value = level;
    }
    if (this.link && this.panel.dataset.state === "connecting") this._render();
  }
}
