// The desk's co-browse panel: ask the customer of the current offer or
// contact to share their page, watch it live (liveview.js), point at things on
// it, stop. It listens to the desk's own socket (the same HubSocket desk.js
// uses) for the card in progress, so desk.js only creates it.
//
// Also the supervisor's watch page (cobrowse-watch.js): `watch: visitorId`
// joins a share in progress; the customer's recorder is asked for a fresh full
// snapshot so the page shows at once.
import { errorText } from "../common/errors.js";
import { h, setText } from "../common/dom.js";
import { LiveView } from "./liveview.js";
import { ControlBar } from "./control.js";
import { Placeholders, describe } from "./unmirrored.js";
import { t } from "./i18n.js";

const TEXT = {
  idle: "cobrowse.idle",
  asking: "cobrowse.asking",
  requested: "cobrowse.requested",
  sharing: "cobrowse.sharing",
  loading: "cobrowse.loading",
  failed: "cobrowse.failed",
  paused: "cobrowse.paused",
  refused: "cobrowse.refused",
  stopped: "cobrowse.stopped",
  ended: "cobrowse.ended",
  contact_ended: "cobrowse.contact_ended",
  watching: "cobrowse.watching",
};

export class CobrowsePanel {
  /**
   * @param {import("../common/socket.js").HubSocket} socket
   * @param {HTMLElement} slot
   * @param {object} [options]
   * @param {string} [options.watch]  a visitor id to watch (supervisor page); no request button then
   * @param {(message: string) => void} [options.toast]
   */
  constructor(socket, slot, { watch = null, toast = () => {} } = {}) {
    this.socket = socket;
    this.slot = slot;
    this.watchOnly = !!watch;
    this.toast = toast;
    this.card = null; // the desk's offer or contact
    this.visitorId = watch;
    this.state = watch ? "watching" : "idle";
    this.view = null;
    /** Called after every render (the documents panel follows the card from here). */
    this.onChange = new Set();
    this._build();
    this._listen();
    // "Send to page" and remote control: the agent's own share only (control.js).
    if (!this.watchOnly) this.control = new ControlBar(this);
    this.render();
  }

  _build() {
    this.stateText = h("p", { class: "cobrowse-state", role: "status", dataset: { testid: "cobrowse-state", state: this.state } });
    this.askButton = h("button", { type: "button", class: "btn primary", dataset: { testid: "btn-cobrowse" }, onclick: () => this.ask() }, t("cobrowse.ask"));
    this.endButton = h("button", { type: "button", class: "btn", dataset: { testid: "btn-cobrowse-end" }, onclick: () => this.end() }, t("cobrowse.stop"));
    this.watchLink = h("a", { class: "small muted", target: "_blank", rel: "noopener", dataset: { testid: "cobrowse-watch-link" } }, t("cobrowse.watch_link"));
    this.stage = h("div", { class: "cobrowse-replay", dataset: { testid: "cobrowse-replay" } });
    // What the customer's page has that the mirror can't show (cross-origin frames, canvases).
    this.unmirroredText = h("p", { class: "cobrowse-unmirrored", role: "status", hidden: true, dataset: { testid: "cobrowse-unmirrored" } });
    this.element = h("section", { class: "cobrowse card", "aria-labelledby": "cobrowse-heading", dataset: { testid: "cobrowse-panel" } },
      h("header", { class: "cobrowse-head" },
        h("h3", { id: "cobrowse-heading" }, t("cobrowse.heading")),
        this.stateText,
        h("div", { class: "cobrowse-actions" }, this.watchLink, this.askButton, this.endButton)),
      this.unmirroredText,
      this.stage);
    this.slot.replaceChildren(this.element);
  }

  _listen() {
    const socket = this.socket;
    socket.on("welcome", (message) => {
      if (this.watchOnly) {
        this._watch();
        return;
      }
      this.card = message.contact || message.offer || null;
      const watching = message.cobrowse || [];
      if (watching.length && !this.view) {
        // A reload while watching: the server asked the customer for a fresh snapshot.
        this.visitorId = watching[0];
        this._setState("paused");
      }
      this.render();
    });
    socket.on("offer", (message) => {
      if (!this.card || this.card.state !== "connected") this._follow(message.offer);
      this.render();
    });
    socket.on("offer_ended", (message) => {
      if (this.card?.offer_id === message.offer_id && message.outcome !== "accepted") this.card = null;
      this.render();
    });
    socket.on("contact", (message) => {
      this._follow(message.contact);
      this.render();
    });
    socket.on("agent_state", (message) => {
      if (!["busy", "wrap_up", "reserved"].includes(message.state?.state) && this.card) {
        this.card = null;
        if (this.visitorId && !this.watchOnly && this._active()) this.end({ quiet: true });
        this.render();
      }
    });
    socket.on("cobrowse_state", (message) => {
      if (message.visitor_id !== this.visitorId) return;
      // The server ended access with the contact (End call, the customer hung up).
      if (message.by === "contact") this._setState("contact_ended");
      // Shared (again): live only once the page's full snapshot is here, never on the old mirror.
      else if (message.state === "sharing") this._setState(this.state === "sharing" ? "sharing" : "loading");
      else this._setState(message.state);
    });
    socket.on("cobrowse_loading", (message) => {
      if (message.visitor_id !== this.visitorId || !this._active()) return;
      this.failure = message.failed || "";
      this._setState(message.failed ? "failed" : "loading");
    });
    socket.on("cobrowse_events", (message) => {
      if (message.visitor_id !== this.visitorId) return;
      const events = message.events || [];
      // Live from the page's full snapshot on; what comes before it belongs to the old page.
      if (events.some((event) => event.type === 2) && this.state !== "sharing") this._setState("sharing");
      this._ensureView().add(events);
    });
    socket.on("cobrowse_unmirrored", (message) => {
      if (message.visitor_id !== this.visitorId || !this.view) return;
      this.placeholders.set(message.areas);
      this._showUnmirrored(message);
    });
  }

  /** The desk's card changed; how the last customer's share ended is no news for the next one. */
  _follow(card) {
    if (card && card.callback_id !== this.card?.callback_id && ["refused", "stopped", "ended", "contact_ended"].includes(this.state)) {
      this.state = "idle";
      this.visitorId = null;
    }
    this.card = card;
  }

  async _watch() {
    try {
      await this.socket.send("cobrowse_view", { visitor_id: this.visitorId });
      if (this.state !== "sharing") this._setState("watching");
    } catch (error) {
      this._setState("stopped");
      setText(this.stateText, errorText(t, error));
    }
  }

  _ensureView() {
    if (!this.view) {
      this.view = new LiveView(this.stage, {
        onPointer: (pointer) => {
          if (this.state === "sharing") this.socket.notify("cobrowse_pointer", { visitor_id: this.visitorId, ...pointer });
        },
      });
      this.placeholders = new Placeholders(this.view);
      // For tests and figures: the replay as the page sees it.
      window.otodeskCobrowse = this;
    }
    return this.view;
  }

  _showUnmirrored(message) {
    const text = describe(message);
    setText(this.unmirroredText, text);
    this.unmirroredText.hidden = !text;
  }

  _dropView() {
    this.placeholders?.destroy();
    this.placeholders = null;
    this._showUnmirrored(null);
    this.view?.destroy();
    this.view = null;
  }

  _setState(state) {
    this.state = state;
    if (["refused", "stopped", "ended", "contact_ended"].includes(state)) this._dropView(); // at once: nothing stays on screen
    // A mirror that is no longer the customer's page is shown as such, never as live.
    this.stage.dataset.stale = String(["loading", "failed", "paused"].includes(state));
    this.render();
  }

  async ask() {
    if (!this.card) return;
    this._dropView();
    this._setState("asking");
    try {
      const ack = await this.socket.send("cobrowse_request", { callback_id: this.card.callback_id });
      this.visitorId = ack.visitor_id;
      if (this.state === "asking") this._setState("requested");
    } catch (error) {
      this._setState("idle");
      this.toast(t("cobrowse.error", { error: errorText(t, error) }));
    }
  }

  async end({ quiet = false } = {}) {
    const visitorId = this.visitorId;
    this._setState("ended");
    if (!visitorId) return;
    try {
      await this.socket.send("cobrowse_end", { visitor_id: visitorId });
    } catch (error) {
      if (!quiet) this.toast(t("cobrowse.error", { error: errorText(t, error) }));
    }
  }

  _active() {
    return ["asking", "requested", "sharing", "paused", "watching", "loading", "failed"].includes(this.state);
  }

  render() {
    const active = this._active();
    this.element.hidden = !this.watchOnly && !this.card && !active && !this.view;
    this.stateText.dataset.state = this.state;
    const text = TEXT[this.state] ? t(TEXT[this.state]) : this.state;
    // The failure is the replayer's own (English) words.
    setText(this.stateText, this.state === "failed" && this.failure ? t("cobrowse.failed_because", { text, failure: this.failure }) : text);
    this.askButton.hidden = this.watchOnly || active || !this.card;
    this.endButton.hidden = !active;
    const link = this.visitorId && this.state === "sharing" && !this.watchOnly;
    this.watchLink.hidden = !link;
    if (link) this.watchLink.href = `/cobrowse/watch?visitor=${encodeURIComponent(this.visitorId)}`;
    this.element.dataset.visitor = this.visitorId || "";
    for (const fn of this.onChange) fn();
  }
}
