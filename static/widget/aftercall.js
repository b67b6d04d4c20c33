// After the contact (seed 001, Hostcentric: "one click says 'No, you didn't do enough'"): the
// agent's summary of what was done, "how did we do?" (1–5) and "Not solved", which reopens
// the request ahead in line as a follow-up. Fetched by widget.js only when there is one to
// show: the `after_call` message, or `welcome.after_call` on a later page load.
//
//   const card = start(socket, { shell, language });   card.show(afterCall)
//
// It draws in the panel, in place of the form or the status, until the customer closes it
// (remembered in this browser) or presses "Not solved" (the new request's status follows).
// Test ids: otodesk-aftercall, otodesk-aftercall-summary, otodesk-rate-1..5 (aria-pressed),
// otodesk-aftercall-thanks, otodesk-not-solved, otodesk-aftercall-close, otodesk-aftercall-error.
import { h, setText } from "../common/dom.js";
import { errorText } from "./errors.js";

const CLOSED_KEY = "otodesk.aftercall"; // the contact whose card the customer closed
const SCALE = [1, 2, 3, 4, 5];

const css = `
.panel.aftercall-on .body > :not(.aftercall) { display: none; }
.aftercall { display: grid; gap: 10px; }
.aftercall h3 { margin: 0; font-size: 16px; }
.aftercall .by { margin: 0; color: var(--muted); font-size: 13px; }
.aftercall .summary { margin: 0; padding: 10px 12px; border-left: 3px solid var(--accent); background: var(--accent-soft);
  border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
.aftercall fieldset { border: 0; margin: 0; padding: 0; display: grid; gap: 6px; }
.aftercall legend { padding: 0; font-weight: 600; margin-bottom: 6px; }
.aftercall .scale { display: grid; grid-template-columns: repeat(5, 1fr); gap: 6px; }
.aftercall .scale button { min-height: 44px; border: 1px solid var(--line); border-radius: 8px; background: #fff;
  font: inherit; font-weight: 650; color: #343a4d; cursor: pointer; }
.aftercall .scale button[aria-pressed="true"] { border-color: var(--accent); background: var(--accent); color: #fff; }
.aftercall .ends { display: flex; justify-content: space-between; color: var(--muted); font-size: 12px; }
.aftercall .thanks { margin: 0; color: var(--ok); font-weight: 600; }
.aftercall .thanks:empty { display: none; }
.aftercall .actions { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
`;

function closedHere(id) {
  try {
    return localStorage.getItem(CLOSED_KEY) === id;
  } catch {
    return false;
  }
}

function remember(id) {
  try {
    localStorage.setItem(CLOSED_KEY, id);
  } catch { /* without storage it shows again on the next page, no worse */ }
}

export function start(socket, options) {
  return new AfterCallCard(socket, options);
}

class AfterCallCard {
  constructor(socket, { shell, language }) {
    this.socket = socket;
    this.shell = shell; // shell.js: its panel (ui.js) is loaded by show()
    this.language = language;
    this.data = null;
    this.element = null;
    this.thanks = "";
    this.busy = false;
    language.onChange(() => this.data && this._draw()); // the shell draws the panel anew first
  }

  /** Show `afterCall` ({callback_id, queue, summary, agent_name, at, rating}) unless closed here. */
  async show(afterCall) {
    if (!afterCall || closedHere(afterCall.callback_id)) return;
    this.data = { ...afterCall };
    this.thanks = "";
    await this.shell.load();
    this._draw();
    this.shell.open({ focus: false });
  }

  _draw() {
    const ui = this.shell.ui;
    const { t } = this.language;
    const data = this.data;
    this.element?.remove();
    if (!ui.root.querySelector("style[data-aftercall]")) ui.root.append(h("style", { dataset: { aftercall: "" } }, css));
    const when = this.language.dateTime(data.at);
    const agent = data.agent_name;
    this.buttons = SCALE.map((n) => h("button", {
      type: "button", "aria-pressed": String(data.rating === n), "aria-label": t("aftercall.rate", { n }),
      dataset: { testid: `otodesk-rate-${n}` }, onclick: () => this._rate(n),
    }, String(n)));
    this.thanksLine = h("p", { class: "thanks", role: "status", dataset: { testid: "otodesk-aftercall-thanks" } }, this.thanks);
    this.error = h("p", { class: "error", role: "alert", dataset: { testid: "otodesk-aftercall-error" } });
    this.notSolved = h("button", { type: "button", class: "secondary", dataset: { testid: "otodesk-not-solved" },
      onclick: () => this._notSolved() }, t("aftercall.not_solved"));
    this.element = h("section", { class: "aftercall", "aria-labelledby": "otodesk-aftercall-title", dataset: { testid: "otodesk-aftercall" } },
      h("h3", { id: "otodesk-aftercall-title", tabindex: "-1" }, t("aftercall.title")),
      h("p", { class: "by" }, agent ? t("aftercall.by", { agent, when }) : t("aftercall.by_anonymous", { when })),
      h("p", { class: "summary", dataset: { testid: "otodesk-aftercall-summary" } }, data.summary),
      h("fieldset", {},
        h("legend", { id: "otodesk-aftercall-question" }, t("aftercall.question")),
        h("div", { class: "scale" }, this.buttons),
        h("div", { class: "ends", "aria-hidden": "true" }, h("span", {}, t("aftercall.low")), h("span", {}, t("aftercall.high")))),
      this.thanksLine,
      h("p", { class: "by" }, t("aftercall.not_solved_hint")),
      this.error,
      h("div", { class: "actions" }, this.notSolved,
        h("button", { type: "button", class: "primary", dataset: { testid: "otodesk-aftercall-close" },
          onclick: () => this.close() }, t("aftercall.close"))));
    ui.panel.querySelector(".body").prepend(this.element);
    ui.panel.classList.add("aftercall-on"); // the header keeps the panel's own title
  }

  _failed(error) {
    // The words for the server's code; a failure without one (the network) in ours.
    setText(this.error, error?.code ? errorText(error, this.language) : this.language.t("aftercall.failed"));
  }

  async _rate(n) {
    setText(this.error, "");
    try {
      await this.socket.send("rate", { callback_id: this.data.callback_id, rating: n });
    } catch (error) {
      this._failed(error);
      return;
    }
    this.data.rating = n;
    for (const [i, button] of this.buttons.entries()) button.setAttribute("aria-pressed", String(SCALE[i] === n));
    this.thanks = this.language.t("aftercall.thanks");
    setText(this.thanksLine, this.thanks);
  }

  async _notSolved() {
    if (this.busy) return;
    this.busy = true;
    this.notSolved.disabled = true;
    setText(this.error, "");
    try {
      await this.socket.send("not_solved", { callback_id: this.data.callback_id });
      // The new request's status (callback_status) takes the panel from here.
      this.close({ remembered: true });
    } catch (error) {
      this._failed(error);
    } finally {
      this.busy = false;
      this.notSolved.disabled = false;
    }
  }

  /** Put the card away for good (in this browser); the panel shows what it had. */
  close({ remembered = true } = {}) {
    if (!this.data) return;
    if (remembered) remember(this.data.callback_id);
    this.data = null;
    this.element?.remove();
    this.element = null;
    const ui = this.shell.ui;
    ui.panel.classList.remove("aftercall-on");
    ui.setCallback(ui.callback); // its own title and status again
    if (!ui.callback) ui.close();
  }
}
