// The incoming offer: who is calling back, their context, a countdown to
// expires_at (on the server's clock) and Accept / Decline.
import { h, setText } from "../common/dom.js";
import { clock } from "../common/format.js";
import { icon } from "../common/icons.js";
import { CustomerDetails, facts, nameSpan, queueTitle, tierBadge } from "./customer.js";
import { SuggestionsPanel } from "./suggestions.js";
import { dispositionName } from "../common/staff-language.js";
import { dateTime, t } from "./i18n.js";

export class OfferCard {
  /**
   * @param {object} options
   * @param {() => number} options.now  the server's clock, epoch seconds
   * @param {(card) => Promise} options.accept
   * @param {(card) => Promise} options.decline
   * @param {(fields) => Promise} [options.feedback]  sends a suggestion's `suggestion_feedback`
   */
  constructor({ now, accept, decline, feedback = () => Promise.resolve() }) {
    this.now = now;
    this.feedback = feedback;
    this.onAccept = accept;
    this.onDecline = decline;
    this.card = null;
    this.element = null;
  }

  /** Render `card` (a Card with offer_id and expires_at); returns the element. */
  render(card, queues) {
    this.card = card;
    const customer = card.customer || {};
    const callback = card.callback || {};
    this.details = new CustomerDetails("offer");
    this.suggestions = new SuggestionsPanel({ prefix: "offer", send: this.feedback, ringing: true });
    this.countdown = h("span", { class: "countdown-text", dataset: { testid: "offer-countdown" }, role: "timer", "aria-label": t("offer.time_left") });
    this.bar = h("span", { class: "bar-fill" });
    this.waiting = h("span", { dataset: { testid: "offer-waiting" } });
    this.acceptButton = h("button", {
      type: "button", class: "btn ok big", dataset: { testid: "btn-accept" }, onclick: () => this._act("accept"),
    }, t("offer.accept"));
    this.declineButton = h("button", {
      type: "button", class: "btn big", dataset: { testid: "btn-decline" }, onclick: () => this._act("decline"),
    }, t("offer.decline"));

    this.element = h("article", {
      class: "offer-card card ringing", dataset: { testid: "offer-card", offerId: card.offer_id || "", callbackId: card.callback_id || "" },
      "aria-labelledby": "offer-heading",
    },
    h("header", { class: "offer-head" },
      h("div", { class: "ring-icon", "aria-hidden": "true" }, icon("phone")),
      h("div", { class: "who" },
        h("p", { class: "eyebrow", dataset: { testid: "offer-kind" } },
          t(callback.channel === "phone_inbound" ? "offer.incoming_phone"
            : callback.chosen_while_waiting ? "offer.chosen_while_waiting" : "offer.incoming"), " · ", h("span", { translate: "no" }, queueTitle(queues, callback.queue))),
        h("h2", { id: "offer-heading" },
          nameSpan(card, "offer-name"), " ",
          tierBadge(customer.tier, "offer")),
        h("p", { class: "muted small" }, t("offer.waiting"), " ", this.waiting)),
      h("div", { class: "countdown" }, this.countdown, h("span", { class: "bar", "aria-hidden": "true" }, this.bar))),
    followUp(card.follow_up, "offer"),
    facts(card, "offer", queues),
    this.suggestions.element,
    this.details.element,
    h("footer", { class: "offer-actions" }, this.acceptButton, this.declineButton));
    this.details.update(card, this.now());
    this.suggestions.update(card);
    this.tick();
    return this.element;
  }

  /** The customer moved to another page while the offer rings. */
  updatePage(card) {
    if (!this.element) return;
    this.card = card;
    this.details.renderPage(card.page, this.now());
    this.details.renderTrail(card.trail || [], this.now());
  }

  /** The site told us something new about the customer (their cart) while the offer rings. */
  updateContext(card) {
    if (!this.element) return;
    this.card = card;
    this.details.renderContext(card.context || {});
  }

  /** The rules matched again (the customer's page or cart changed). */
  updateSuggestions(card) {
    if (!this.element) return;
    this.card = card;
    this.suggestions.update(card);
  }

  /** Once a second: countdown and waiting time. */
  tick() {
    if (!this.element || !this.card) return;
    const now = this.now();
    const card = this.card;
    const expires = card.expires_at;
    if (expires) {
      const left = Math.max(0, expires - now);
      const total = Math.max(1, expires - (card.offered_at || expires - 20));
      setText(this.countdown, t("offer.seconds", { seconds: Math.ceil(left) }));
      this.bar.style.width = `${Math.min(100, (left / total) * 100)}%`;
      this.element.classList.toggle("urgent", left <= 5);
    } else {
      setText(this.countdown, "");
    }
    const since = card.callback?.enqueued_at || card.callback?.created_at;
    setText(this.waiting, since ? clock(now - since) : "—");
  }

  refreshTimes() {
    if (this.element && this.card) this.details.update(this.card, this.now());
  }

  focus() {
    this.acceptButton?.focus({ preventScroll: false });
  }

  async _act(action) {
    if (!this.card || this.acceptButton.disabled) return;
    this.acceptButton.disabled = this.declineButton.disabled = true;
    const button = action === "accept" ? this.acceptButton : this.declineButton;
    const text = button.textContent;
    setText(button, t(action === "accept" ? "offer.accepting" : "offer.declining"));
    try {
      await (action === "accept" ? this.onAccept(this.card) : this.onDecline(this.card));
    } finally {
      // The card usually goes away on offer_ended; if it stays, allow another try.
      if (this.acceptButton) {
        this.acceptButton.disabled = this.declineButton.disabled = false;
        setText(button, text);
      }
    }
  }
}

/** "Follow-up of <date>, <agent>: <summary>": the customer pressed "Not solved" after that contact. */
export function followUp(earlier, prefix) {
  if (!earlier) return null;
  const values = { when: dateTime(earlier.at), agent: earlier.agent_name || t("followup.an_agent"), rating: earlier.rating };
  // The summary is the agent's own words; a disposition is named; neither: say so.
  const what = earlier.summary ? h("span", { translate: "no" }, earlier.summary)
    : earlier.disposition ? dispositionName(t, earlier.disposition) : t("followup.none");
  return h("p", { class: "follow-up", role: "note", dataset: { testid: `${prefix}-follow-up` } },
    h("strong", {}, t(earlier.rating ? "followup.head_rated" : "followup.head", values)), what);
}
