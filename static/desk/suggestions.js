// "Suggested now": the business rules' top suggestions for the customer on the
// offer card and the connected card (desktop/suggestions/), with the script, the
// one-click push (a document, or "go to this page" while co-browsing) and the
// customer's answer. What the agent does is told back as `suggestion_feedback`:
// shown (the card showed it: an impression), presented (the agent opened the
// script), accepted, declined (with an optional reason). Each once per contact.
import { h, replace, setText } from "../common/dom.js";

const KIND_TEXT = {
  "cross-sell": "Cross-sell", "up-sell": "Up-sell", retention: "Retention", service: "Service", information: "Information",
};
const REASONS = ["Not interested", "Already has it", "Too expensive", "Not now", "Not relevant"];

// What was said already, per contact: "callback:action:version" -> outcomes sent. Shared by
// the offer card and the connected card, so the same contact never counts twice.
const told = new Map();
// The customer's answer per suggestion, to keep it across re-renders (a cart change).
const answers = new Map();

const keyOf = (callbackId, item) => `${callbackId}:${item.action_id}:${item.version}`;

export class SuggestionsPanel {
  /**
   * @param {object} options
   * @param {string} options.prefix  "offer" or "contact" (test ids, element ids)
   * @param {(fields: object) => Promise} options.send  sends `suggestion_feedback` with these fields
   * @param {(item: object, card: object) => Promise|void} [options.push]  the one-click push
   * @param {boolean} [options.canPush]  false on the offer card: nothing is pushed before the call
   */
  constructor({ prefix, send, push = null, canPush = true }) {
    this.prefix = prefix;
    this.send = send;
    this.push = push;
    this.canPush = canPush;
    this.card = null;
    this.list = h("ol", { class: "suggestions", dataset: { testid: `${prefix}-suggestions` } });
    this.element = h("section", { class: "suggested-now", "aria-labelledby": `${prefix}-suggested-heading`, hidden: true },
      h("h3", { id: `${prefix}-suggested-heading` }, "Suggested now"), this.list);
  }

  /** Show the suggestions of `card` (`card.suggestions`, best first). */
  update(card) {
    this.card = card;
    const items = card?.suggestions || [];
    this.element.hidden = !items.length;
    replace(this.list, items.map((item, index) => this._item(card, item, index)));
    for (const item of items) this._tell(card, item, "shown").catch(() => {}); // retried on the next render
  }

  _item(card, item, index) {
    const key = keyOf(card.callback_id, item);
    const answer = answers.get(key);
    const script = h("div", { class: "suggestion-script", dataset: { testid: "suggestion-script" } }, item.script || "");
    const details = h("details", { class: "suggestion-details", open: index === 0 && this.prefix === "contact" },
      h("summary", {}, "Script"), script);
    // Opening the script is the agent reading it: "presented" (the first one opens by itself on the call).
    details.addEventListener("toggle", () => {
      if (details.open) this._tell(card, item, "presented").catch(() => {});
    });
    if (details.open) queueMicrotask(() => this._tell(card, item, "presented").catch(() => {}));
    const status = h("p", { class: "suggestion-status small", role: "status", dataset: { testid: "suggestion-status" } },
      answer ? (answer.outcome === "accepted" ? "Accepted" : `Declined${answer.reason ? `: ${answer.reason}` : ""}`) : "");
    const pushButton = item.push ? h("button", {
      type: "button", class: "btn small", dataset: { testid: "btn-suggestion-push" },
      disabled: !this.canPush || !this.push,
      title: this.canPush ? "" : "Push once you are talking with the customer",
      onclick: () => this.push?.(item, card),
    }, item.push.kind === "page" ? `Send to page: ${item.push.label || item.push.target}` : `Push ${item.push.label || "document"}`) : null;
    const accept = h("button", {
      type: "button", class: "btn small ok", dataset: { testid: "btn-suggestion-accept" }, disabled: !!answer,
      onclick: () => this._answer(card, item, "accepted"),
    }, "Accept");
    const reason = h("select", { class: "suggestion-reason", "aria-label": "Why the customer declined (optional)", dataset: { testid: "suggestion-reason" } },
      h("option", { value: "" }, "Reason (optional)"), REASONS.map((text) => h("option", { value: text }, text)));
    const confirm = h("button", { type: "button", class: "btn small", dataset: { testid: "btn-suggestion-decline-confirm" },
      onclick: () => this._answer(card, item, "declined", reason.value) }, "Decline");
    const declineRow = h("div", { class: "suggestion-decline", hidden: true }, reason, confirm);
    const decline = h("button", {
      type: "button", class: "btn small", dataset: { testid: "btn-suggestion-decline" }, disabled: !!answer,
      "aria-expanded": "false",
      onclick: () => {
        declineRow.hidden = !declineRow.hidden;
        decline.setAttribute("aria-expanded", String(!declineRow.hidden));
        if (!declineRow.hidden) reason.focus();
      },
    }, "Decline…");
    return h("li", {
      class: ["suggestion", answer ? `answered ${answer.outcome}` : ""],
      dataset: { testid: "suggestion", actionId: item.action_id, version: String(item.version), kind: item.kind || "" },
    },
    h("div", { class: "suggestion-head" },
      h("span", { class: "suggestion-kind", dataset: { kind: item.kind || "" } }, KIND_TEXT[item.kind] || item.kind || ""),
      h("strong", { class: "suggestion-title", dataset: { testid: "suggestion-title" } }, item.title || "")),
    details,
    h("div", { class: "suggestion-actions" }, pushButton, accept, decline),
    declineRow, status);
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
