// The contact in progress: connected (talk timer, End) and then wrap-up
// (disposition, note, Done). Built once per callback and updated in place, so
// a page change or a reconnect never wipes the note being typed; the note
// draft is also kept in sessionStorage so a reload keeps it.
import { errorText } from "../common/errors.js";
import { h, replace, setText } from "../common/dom.js";
import { clock } from "../common/format.js";
import { CustomerDetails, facts, nameSpan, phoneText, queueTitle, tierBadge } from "./customer.js";
import { followUp } from "./offer.js";
import { SuggestionsPanel } from "./suggestions.js";
import { dispositionName, isDefaultDisposition } from "../common/staff-language.js";
import { t } from "./i18n.js";

const DRAFT_PREFIX = "otodesk.note.";

function draft(callbackId, value) {
  try {
    if (value === undefined) return sessionStorage.getItem(DRAFT_PREFIX + callbackId) || "";
    if (value) sessionStorage.setItem(DRAFT_PREFIX + callbackId, value);
    else sessionStorage.removeItem(DRAFT_PREFIX + callbackId);
  } catch {
    /* no storage: the draft lives as long as the page */
  }
  return "";
}

export class ContactView {
  /**
   * @param {object} options
   * @param {() => number} options.now  the server's clock, epoch seconds
   * @param {(card) => Promise} options.end
   * @param {(card, disposition, note) => Promise} options.wrapUp
   * @param {(fields) => Promise} [options.feedback]  sends a suggestion's `suggestion_feedback`
   * @param {(item, card) => Promise} [options.push]  pushes a suggestion's document or page
   * @param {(callbackId) => number|null|undefined} [options.talked]  seconds a phone the server dials
   *   has talked (null: not answered, no timer; undefined: not such a call, the card's own time)
   */
  constructor({ now, end, wrapUp, feedback = () => Promise.resolve(), push = null, talked = () => undefined }) {
    this.now = now;
    this.talked = talked;
    this.feedback = feedback;
    this.push = push;
    this.onEnd = end;
    this.onWrapUp = wrapUp;
    this.card = null;
    this.element = null;
    this.wrapUpSince = null;
    this.connectedSince = null;
  }

  /** Show `card`; rebuilds only for another callback. Returns the element. */
  render(card, { queues, dispositions, agentStatus, phoneDials = false }) {
    this.phoneDials = phoneDials;
    const same = this.element && this.card?.callback_id === card.callback_id;
    this.card = card;
    if (!same) this._build(card, queues, dispositions);
    this._update(card, dispositions, agentStatus);
    return this.element;
  }

  _build(card, queues, dispositions) {
    const customer = card.customer || {};
    const callback = card.callback || {};
    this.details = new CustomerDetails("contact");
    this.suggestions = new SuggestionsPanel({ prefix: "contact", send: this.feedback, push: this.push });
    this.stateText = h("span", { class: "talk-state", dataset: { testid: "contact-state" } });
    this.timer = h("span", { class: "talk-timer", role: "timer", dataset: { testid: "contact-timer" } });
    // A phone callback is not connected until the agent dials it (no telephony yet): say so.
    const phone = callback.phone || customer.phone;
    // The number is a link inside the sentence: the message names where it goes ({number}).
    const [before, after] = t(phone ? "contact.dial" : "contact.dial_unknown").split("{number}");
    this.dialLine = h("p", { class: "dial-line", role: "status", dataset: { testid: "contact-dial" }, hidden: true },
      before, phone ? h("a", { href: `tel:${phone}`, dataset: { testid: "contact-dial-number" } }, phone) : null, after ?? "");
    // How a dialled phone ended (card.phone_attempt, in wrap-up): busy, no answer… also after a reload.
    this.phoneOutcome = h("p", { class: "dial-line", role: "status", dataset: { testid: "wrapup-phone" }, hidden: true });
    this.endButton = h("button", {
      type: "button", class: "btn danger big", dataset: { testid: "btn-end" }, onclick: () => this._end(),
    }, t("contact.end"));

    this.disposition = h("select", { id: "wrapup-disposition", name: "disposition", required: true, dataset: { testid: "wrapup-disposition" } });
    this._fillDispositions(dispositions);
    this.note = h("textarea", {
      id: "wrapup-note", name: "note", maxlength: "2000", rows: "4", dataset: { testid: "wrapup-note" },
      placeholder: t("wrapup.note_placeholder"),
      oninput: () => draft(this.card.callback_id, this.note.value),
    });
    this.note.value = draft(card.callback_id);
    // What the customer is told (their widget, and an e-mail if they gave an address); optional.
    this.summary = h("textarea", {
      id: "wrapup-summary", name: "summary", maxlength: "1000", rows: "3", dataset: { testid: "wrapup-summary" },
      placeholder: t("wrapup.summary_placeholder"),
      "aria-describedby": "wrapup-summary-hint",
    });
    this.wrapError = h("p", { class: "form-error", role: "alert" });
    this.doneButton = h("button", { type: "submit", class: "btn primary big", dataset: { testid: "btn-wrapup" } }, t("wrapup.done"));
    this.wrapTimer = h("span", { class: "muted", dataset: { testid: "wrapup-timer" } });
    this.form = h("form", {
      class: "wrapup-form", dataset: { testid: "wrapup-form" }, hidden: true, novalidate: true,
      "aria-labelledby": "wrapup-heading",
      onsubmit: (event) => {
        event.preventDefault();
        this._wrapUp();
      },
    },
    h("div", { class: "wrapup-head" }, h("h3", { id: "wrapup-heading" }, t("wrapup.heading")), this.wrapTimer),
    h("div", { class: "field" }, h("label", { for: "wrapup-disposition" }, t("wrapup.outcome")), this.disposition),
    h("div", { class: "field" }, h("label", { for: "wrapup-note" }, t("wrapup.note"), " ", h("span", { class: "muted" }, t("wrapup.note_hint"))), this.note),
    h("div", { class: "field" }, h("label", { for: "wrapup-summary" }, t("wrapup.summary"), " ", h("span", { class: "muted" }, t("wrapup.optional"))), this.summary,
      h("p", { class: "muted small", id: "wrapup-summary-hint" }, t("wrapup.summary_hint"))),
    this.wrapError,
    h("div", { class: "wrapup-actions" }, this.doneButton));

    this.element = h("article", {
      class: "contact-view card", dataset: { testid: "contact-view", callbackId: card.callback_id || "" },
      "aria-labelledby": "contact-heading",
    },
    h("header", { class: "contact-head" },
      h("div", { class: "who" },
        h("p", { class: "eyebrow", translate: "no" }, queueTitle(queues, callback.queue)),
        h("h2", { id: "contact-heading" },
          nameSpan(card, "contact-name"), " ",
          tierBadge(customer.tier, "contact"))),
      h("div", { class: "talk" }, this.stateText, this.timer),
      this.endButton),
    this.dialLine,
    this.phoneOutcome,
    this.form,
    followUp(card.follow_up, "contact"),
    facts(card, "contact", queues),
    this.suggestions.element,
    this.details.element);
  }

  _fillDispositions(dispositions) {
    const current = this.disposition.value;
    replace(this.disposition,
      h("option", { value: "" }, t("wrapup.choose")),
      // The value stays the disposition as stored (a code); the default ones are named.
      (dispositions || []).map((item) => h("option", { value: item, translate: isDefaultDisposition(item) ? null : "no" }, dispositionName(t, item))));
    if ((dispositions || []).includes(current)) this.disposition.value = current;
  }

  _update(card, dispositions, agentStatus) {
    const wrapping = card.state === "wrap_up";
    this.element.dataset.state = card.state;
    this.element.classList.toggle("wrapping", wrapping);
    this.connectedSince = card.answered_at || this.connectedSince || this.now();
    if (wrapping) {
      this.wrapUpSince = agentStatus?.state === "wrap_up" && agentStatus.since ? agentStatus.since : this.wrapUpSince || this.now();
    }
    if (dispositions && this.disposition.options.length !== dispositions.length + 1) this._fillDispositions(dispositions);
    const wasHidden = this.form.hidden;
    this.form.hidden = !wrapping;
    this.endButton.hidden = wrapping;
    const byPhone = card.callback?.channel === "phone";
    const phonedIn = card.callback?.channel === "phone_inbound";
    // Dialled by the server (a SIP trunk), the voice panel shows the call's real state.
    this.dialLine.hidden = wrapping || !byPhone || this.phoneDials;
    const attempt = wrapping && byPhone ? card.phone_attempt : null;
    this.phoneOutcome.hidden = !attempt;
    setText(this.phoneOutcome, attempt ? phoneText({ kind: "phone_attempt", data: attempt }) : "");
    setText(this.stateText, t(wrapping ? "contact.wrapping" : phonedIn ? "contact.phone_call"
      : byPhone ? (this.phoneDials ? "contact.phone_call" : "contact.calling_phone") : "contact.connected"));
    this.details.update(card, this.now());
    // During the call only: in wrap-up the suggestions have had their moment.
    this.suggestions.update(wrapping ? { ...card, suggestions: [] } : card);
    this.tick();
    if (wrapping && wasHidden) requestAnimationFrame(() => this.disposition.focus());
  }

  updatePage(card) {
    if (!this.element) return;
    this.card = card;
    this.details.renderPage(card.page, this.now());
    this.details.renderTrail(card.trail || [], this.now());
  }

  /** The rules matched again (the customer's page or cart changed). */
  updateSuggestions(card) {
    if (!this.element || card.state === "wrap_up") return;
    this.card = card;
    this.suggestions.update(card);
  }

  /** The site told us something new about the customer (their cart). */
  updateContext(card) {
    if (!this.element) return;
    this.card = card;
    this.details.renderContext(card.context || {});
  }

  refreshTimes() {
    if (this.element && this.card) this.details.update(this.card, this.now());
  }

  tick() {
    if (!this.element || !this.card) return;
    const now = this.now();
    if (this.card.state === "wrap_up") {
      setText(this.timer, "");
      const ends = this.card.wrap_up_ends_at;
      // The limit, not only the time spent: the contact closes by itself at its end.
      setText(this.wrapTimer, ends ? t("wrapup.left", { time: clock(Math.max(0, ends - now)) }) : clock(now - (this.wrapUpSince || now)));
    } else {
      // A phone the server dials talks from its answer, as the voice panel says (not while it rings).
      const talked = this.talked(this.card.callback_id);
      setText(this.timer, talked === undefined ? clock(now - (this.connectedSince || now)) : talked === null ? "" : clock(talked));
    }
  }

  async _end() {
    if (this.endButton.disabled) return;
    this.endButton.disabled = true;
    setText(this.endButton, t("contact.ending"));
    try {
      await this.onEnd(this.card);
    } finally {
      this.endButton.disabled = false;
      setText(this.endButton, t("contact.end"));
    }
  }

  /** The wrap-up time ran out: save what was typed (the agent is available already). */
  async saveOnTimeout() {
    if (!this.card || this.card.state !== "wrap_up") return null;
    const callbackId = this.card.callback_id;
    const disposition = this.disposition.value;
    await this.onWrapUp(this.card, disposition, this.note.value.trim(), { timedOut: true, summary: this.summary.value.trim() });
    draft(callbackId, "");
    return disposition;
  }

  async _wrapUp() {
    if (this.doneButton.disabled) return;
    setText(this.wrapError, "");
    this.disposition.removeAttribute("aria-invalid");
    if (!this.disposition.value) {
      setText(this.wrapError, t("wrapup.choose_error"));
      this.disposition.setAttribute("aria-invalid", "true");
      this.disposition.focus();
      return;
    }
    this.doneButton.disabled = true;
    setText(this.doneButton, t("wrapup.saving"));
    const callbackId = this.card.callback_id;
    try {
      await this.onWrapUp(this.card, this.disposition.value, this.note.value.trim(), { summary: this.summary.value.trim() });
      draft(callbackId, "");
    } catch (error) {
      setText(this.wrapError, error?.code ? errorText(t, error) : t("wrapup.failed"));
    } finally {
      this.doneButton.disabled = false;
      setText(this.doneButton, t("wrapup.done"));
    }
  }
}
