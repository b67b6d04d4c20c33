// The agent's own state: the pill, time in state, and Available / Away.
import { setText } from "../common/dom.js";
import { clock } from "../common/format.js";
import { t } from "./i18n.js";

// The server's states (codes) and their names.
const LABELS = {
  offline: "state.offline",
  away: "state.away",
  available: "state.available",
  reserved: "state.reserved",
  busy: "state.busy",
  wrap_up: "state.wrap_up",
};
// The away reasons are the menu's values, English words kept as codes (the wall names them too).
const AWAY_REASONS = {
  break: "away.break", lunch: "away.lunch", meeting: "away.meeting", training: "away.training", other: "away.other",
  // The router's own reasons (desktop/routing): just signed in, a missed offer, no desk open.
  login: "away.login", "missed offer": "away.missed_offer", "desk closed": "away.desk_closed",
};
export const awayReason = (reason) => (AWAY_REASONS[String(reason).toLowerCase()] ? t(AWAY_REASONS[String(reason).toLowerCase()]) : reason);

/** States in which the agent may pick Available or Away themselves (wrap-up ends with Done). */
const CHOOSABLE = new Set(["offline", "away", "available"]);

export class StateBar {
  /**
   * @param {Element} root  the page (looks up data-testid elements in it)
   * @param {object} options
   * @param {(state: string, reason: string) => Promise} options.setState
   * @param {() => number} options.now  the server's clock, epoch seconds
   */
  constructor(root, { setState, now }) {
    this.now = now;
    this.onSetState = setState;
    this.pill = root.querySelector("[data-testid=desk-state]");
    this.reason = root.querySelector("[data-state-reason]");
    this.since = root.querySelector("[data-state-since]");
    this.available = root.querySelector("[data-available]");
    this.away = root.querySelector("[data-away]");
    this.awayReason = root.querySelector("[data-away-reason]");
    this.status = { state: "offline", reason: "", since: null };
    this.busy = false;
    this.available.addEventListener("click", () => this._choose("available", ""));
    this.away.addEventListener("click", () => this._choose("away", this.awayReason.value));
    this.awayReason.addEventListener("change", () => {
      // Already away: changing the reason is a new away state.
      if (this.status.state === "away") this._choose("away", this.awayReason.value);
    });
  }

  render(status, { connected = true } = {}) {
    this.status = status || { state: "offline", reason: "", since: null };
    this.connected = connected;
    const state = this.status.state;
    this.pill.dataset.state = state;
    setText(this.pill, LABELS[state] ? t(LABELS[state]) : state);
    setText(this.reason, state === "away" && this.status.reason ? awayReason(this.status.reason) : "");
    if (state === "away" && this.status.reason && [...this.awayReason.options].some((o) => o.value === this.status.reason)) {
      this.awayReason.value = this.status.reason;
    }
    this.available.setAttribute("aria-pressed", String(state === "available"));
    this.away.setAttribute("aria-pressed", String(state === "away"));
    const canChoose = connected && !this.busy && CHOOSABLE.has(state);
    this.available.disabled = !canChoose || state === "available";
    this.away.disabled = !canChoose || state === "away";
    this.awayReason.disabled = !connected || this.busy || !CHOOSABLE.has(state);
    const hint = state === "wrap_up" ? t("state.finish_wrap_up") : "";
    this.available.title = hint;
    this.away.title = hint;
    document.body.dataset.agentState = state;
    this.tick();
  }

  tick() {
    const since = this.status.since;
    setText(this.since, since ? clock(this.now() - since) : "");
  }

  async _choose(state, reason) {
    if (this.busy) return;
    this.busy = true;
    this.render(this.status, { connected: this.connected });
    try {
      await this.onSetState(state, reason);
    } catch {
      // Said by the desk's toast (desk.js command); the pill keeps the server's state.
    } finally {
      this.busy = false;
      this.render(this.status, { connected: this.connected });
    }
  }
}
