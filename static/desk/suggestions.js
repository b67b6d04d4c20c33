// "Suggested now": the business rules' top suggestions for the customer on the
// offer card and the connected card (desktop/suggestions/), with the script, the
// one-click push (a document, or "go to this page" while co-browsing) and the
// customer's answer. What the agent does is told back as `suggestion_feedback`:
// shown (the card showed it: an impression), presented (the agent opened the
// script during the call, or recorded an answer), accepted, declined (with an
// optional reason). Each once per contact. The ringing offer card shows the same
// suggestions to read ahead, without push or answers (nobody is talking yet).
import { h, replace, setText } from "../common/dom.js";

const KIND_TEXT = {
  "cross-sell": "Cross-sell", "up-sell": "Up-sell", retention: "Retention", service: "Service", information: "Information",
};
const REASONS = ["Not interested", "Already has it", "Too expensive", "Not now", "Not relevant"];

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
      h("div", { class: "suggested-head" }, h("h3", { id: `${prefix}-suggested-heading` }, "Suggested now"),
        ringing ? h("span", { class: "small muted" }, "Push and record the answer once you are talking") : null),
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
    const script = h("div", { class: "suggestion-script", dataset: { testid: "suggestion-script" } }, item.script || "");
    const opened = `${this.prefix}:${key}`;
    const details = h("details", { class: "suggestion-details", open: openScripts.has(opened) },
      h("summary", {}, "Script"), script);
    // Opening the script during the call is the agent reading it out: "presented". On the
    // ringing card it is only reading ahead.
    details.addEventListener("toggle", () => {
      if (details.open) openScripts.add(opened);
      else openScripts.delete(opened);
      if (details.open && !this.ringing) this._tell(card, item, "presented").catch(() => {});
    });
    const status = h("p", { class: "suggestion-status small", role: "status", dataset: { testid: "suggestion-status" } },
      answer ? (answer.outcome === "accepted" ? "Accepted" : `Declined${answer.reason ? `: ${answer.reason}` : ""}`) : "");
    const head = h("div", { class: "suggestion-head" },
      h("span", { class: "suggestion-kind", dataset: { kind: item.kind || "" } }, KIND_TEXT[item.kind] || item.kind || ""),
      h("strong", { class: "suggestion-title", dataset: { testid: "suggestion-title" } }, item.title || ""));
    const element = h("li", {
      class: ["suggestion", answer ? `answered ${answer.outcome}` : ""],
      dataset: { testid: "suggestion", actionId: item.action_id, version: String(item.version), kind: item.kind || "" },
    }, head, details);
    if (this.ringing) return element;
    const pushButton = item.push ? h("button", {
      type: "button", class: "btn small", dataset: { testid: "btn-suggestion-push" }, disabled: !this.push,
      onclick: () => this.push?.(item, card),
    }, item.push.kind === "page" ? `Send to page: ${item.push.label || item.push.target}` : `Push ${item.push.label || "document"}`) : null;
    // The customer's answer, as the agent records it.
    const accept = h("button", {
      type: "button", class: "btn small", dataset: { testid: "btn-suggestion-accept" }, disabled: !!answer,
      title: "The customer takes it", onclick: () => this._answer(card, item, "accepted"),
    }, "Accepted");
    const reason = h("select", { class: "suggestion-reason", "aria-label": "Why the customer declined (optional)", dataset: { testid: "suggestion-reason" } },
      h("option", { value: "" }, "Reason (optional)"), REASONS.map((text) => h("option", { value: text }, text)));
    const confirm = h("button", { type: "button", class: "btn small", dataset: { testid: "btn-suggestion-decline-confirm" },
      onclick: () => this._answer(card, item, "declined", reason.value) }, "Save");
    const declineRow = h("div", { class: "suggestion-decline", hidden: true }, reason, confirm);
    const decline = h("button", {
      type: "button", class: "btn small", dataset: { testid: "btn-suggestion-decline" }, disabled: !!answer,
      "aria-expanded": "false", title: "The customer says no",
      onclick: () => {
        declineRow.hidden = !declineRow.hidden;
        decline.setAttribute("aria-expanded", String(!declineRow.hidden));
        if (!declineRow.hidden) reason.focus();
      },
    }, "Declined…");
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
      setText(this.list.querySelector(`[data-action-id="${CSS.escape(item.action_id)}"] [data-testid=suggestion-status]`) || this.list, `Not saved: ${error.message}`);
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
