// "Suggested now": the business rules' top suggestions for the customer on the
// offer card and the connected card (desktop/suggestions/), with the script, the
// one-click push (a document, or "go to this page" while co-browsing) and the
// customer's answer. What the agent does is told back as `suggestion_feedback`:
// shown (the card showed it: an impression), presented (the agent opened the
// script during the call, or recorded an answer), accepted, declined (with an
// optional reason). Each once per contact. The ringing offer card shows the same
// suggestions to read ahead, without push or answers (nobody is talking yet).
import { errorText } from "../common/errors.js";
import { h, replace, setText } from "../common/dom.js";
import { t } from "./i18n.js";

const KIND_TEXT = {
  "cross-sell": "suggestion.cross_sell", "up-sell": "suggestion.up_sell", retention: "suggestion.retention",
  service: "suggestion.service", information: "suggestion.information",
};
// Why a customer declined: the values are English codes (the planner's results list them as
// sent), the options name them in the desk's language.
const REASONS = {
  "Not interested": "reason.not_interested", "Already has it": "reason.has_it", "Too expensive": "reason.too_expensive",
  "Not now": "reason.not_now", "Not relevant": "reason.not_relevant",
};
const reasonName = (reason) => (REASONS[reason] ? t(REASONS[reason]) : reason);

// What was said already, per contact: "callback:action:version" -> outcomes sent. Shared by
// the offer card and the connected card, so the same contact never counts twice.
const told = new Map();
// The customer's answer per suggestion, and the scripts the agent opened, to keep them
// across re-renders (a cart change re-matches).
const answers = new Map();
const openScripts = new Set();

const keyOf = (callbackId, item) => `${callbackId}:${item.action_id}:${item.version}`;

export class SuggestionsPanel {
  /**
   * @param {object} options
   * @param {string} options.prefix  "offer" or "contact" (test ids, element ids)
   * @param {(fields: object) => Promise} options.send  sends `suggestion_feedback` with these fields
   * @param {(item: object, card: object) => Promise|void} [options.push]  the one-click push
   * @param {boolean} [options.ringing]  the offer card: read ahead only (nothing to push or
   *   answer before the agent talks with the customer)
   */
  constructor({ prefix, send, push = null, ringing = false }) {
    this.prefix = prefix;
    this.send = send;
    this.push = push;
    this.ringing = ringing;
    this.card = null;
    this.list = h("ol", { class: "suggestions", dataset: { testid: `${prefix}-suggestions` } });
    this.element = h("section", { class: "suggested-now", "aria-labelledby": `${prefix}-suggested-heading`, hidden: true },
      h("div", { class: "suggested-head" }, h("h3", { id: `${prefix}-suggested-heading` }, t("suggestion.heading")),
        ringing ? h("span", { class: "small muted" }, t("suggestion.ringing_hint")) : null),
      this.list);
  }

  /** Show the suggestions of `card` (`card.suggestions`, best first). */
  update(card) {
    this.card = card;
    const items = card?.suggestions || [];
    this.element.hidden = !items.length;
    replace(this.list, items.map((item) => this._item(card, item)));
    for (const item of items) this._tell(card, item, "shown").catch(() => {}); // retried on the next render
  }

  _item(card, item) {
    const key = keyOf(card.callback_id, item);
    const answer = answers.get(key);
    // The planner's words, in the language the planner wrote them.
    const script = h("div", { class: "suggestion-script", translate: "no", dataset: { testid: "suggestion-script" } }, item.script || "");
    const opened = `${this.prefix}:${key}`;
    const details = h("details", { class: "suggestion-details", open: openScripts.has(opened) },
      h("summary", {}, t("suggestion.script")), script);
    // Opening the script during the call is the agent reading it out: "presented". On the
    // ringing card it is only reading ahead.
    details.addEventListener("toggle", () => {
      if (details.open) openScripts.add(opened);
      else openScripts.delete(opened);
      if (details.open && !this.ringing) this._tell(card, item, "presented").catch(() => {});
    });
    const status = h("p", { class: "suggestion-status small", role: "status", dataset: { testid: "suggestion-status" } },
      answer ? (answer.outcome === "accepted" ? t("suggestion.accepted")
        : answer.reason ? t("suggestion.declined_reason", { reason: reasonName(answer.reason) }) : t("suggestion.declined")) : "");
    const head = h("div", { class: "suggestion-head" },
      h("span", { class: "suggestion-kind", dataset: { kind: item.kind || "" } }, KIND_TEXT[item.kind] ? t(KIND_TEXT[item.kind]) : item.kind || ""),
      h("strong", { class: "suggestion-title", translate: "no", dataset: { testid: "suggestion-title" } }, item.title || ""));
    const element = h("li", {
      class: ["suggestion", answer ? `answered ${answer.outcome}` : ""],
      dataset: { testid: "suggestion", actionId: item.action_id, version: String(item.version), kind: item.kind || "" },
    }, head, details);
    if (this.ringing) return element;
    const pushButton = item.push ? h("button", {
      type: "button", class: "btn small", dataset: { testid: "btn-suggestion-push" }, disabled: !this.push,
      onclick: () => this.push?.(item, card),
    }, item.push.kind === "page" ? t("suggestion.send_page", { page: item.push.label || item.push.target })
      : item.push.label ? t("suggestion.push_named", { name: item.push.label }) : t("suggestion.push_document")) : null;
    // The customer's answer, as the agent records it.
    const accept = h("button", {
      type: "button", class: "btn small", dataset: { testid: "btn-suggestion-accept" }, disabled: !!answer,
      title: t("suggestion.accept_title"), onclick: () => this._answer(card, item, "accepted"),
    }, t("suggestion.accepted"));
    const reason = h("select", { class: "suggestion-reason", "aria-label": t("suggestion.reason_label"), dataset: { testid: "suggestion-reason" } },
      h("option", { value: "" }, t("suggestion.reason_optional")), Object.entries(REASONS).map(([value, key]) => h("option", { value }, t(key))));
    const confirm = h("button", { type: "button", class: "btn small", dataset: { testid: "btn-suggestion-decline-confirm" },
      onclick: () => this._answer(card, item, "declined", reason.value) }, t("suggestion.save"));
    const declineRow = h("div", { class: "suggestion-decline", hidden: true }, reason, confirm);
    const decline = h("button", {
      type: "button", class: "btn small", dataset: { testid: "btn-suggestion-decline" }, disabled: !!answer,
      "aria-expanded": "false", title: t("suggestion.decline_title"),
      onclick: () => {
        declineRow.hidden = !declineRow.hidden;
        decline.setAttribute("aria-expanded", String(!declineRow.hidden));
        if (!declineRow.hidden) reason.focus();
      },
    }, t("suggestion.decline"));
    element.append(h("div", { class: "suggestion-actions" }, pushButton, accept, decline), declineRow, status);
    return element;
  }

  async _answer(card, item, outcome, reason = "") {
    const key = keyOf(card.callback_id, item);
    if (answers.has(key)) return;
    answers.set(key, { outcome, reason });
    this.update(this.card);
    try {
      this._tell(card, item, "presented").catch(() => {}); // an answer means it was put to the customer
      await this._tell(card, item, outcome, reason);
    } catch (error) {
      answers.delete(key); // not recorded: let the agent try again
      this.update(this.card);
      setText(this.list.querySelector(`[data-action-id="${CSS.escape(item.action_id)}"] [data-testid=suggestion-status]`) || this.list, t("suggestion.not_saved", { error: errorText(t, error) }));
    }
  }

  /** Say `outcome` of `item` once for this contact. */
  _tell(card, item, outcome, reason = "") {
    const key = keyOf(card.callback_id, item);
    const said = told.get(key) || new Set();
    if (said.has(outcome)) return Promise.resolve();
    said.add(outcome);
    told.set(key, said);
    const fields = { callback_id: card.callback_id, action_id: item.action_id, version: item.version, outcome };
    if (reason) fields.reason = reason;
    return this.send(fields).catch((error) => {
      said.delete(outcome); // a later render may say it again
      throw error;
    });
  }
}
