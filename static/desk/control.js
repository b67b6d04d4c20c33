// The agent's hand on the customer's page, beyond the pointer (desktop/cobrowse/control.py):
// a row under the co-browse panel's header while the customer shares.
//
// - "Send to page": a URL or path of the customer's own site (or one of the
//   pages they visited, offered in the list); the customer confirms with Go.
// - "Ask for control" (only where the site allows it; the customer says yes
//   each time): then clicks on the mirror click there, the wheel scrolls their
//   page, typing goes into the field last clicked. Fields hidden from the agent
//   (masked, password, card, private) are refused here, and again on the
//   customer's device, which decides. The customer takes control back with Esc
//   or a click; this row says so.
import { errorText } from "../common/errors.js";
import { h, setText } from "../common/dom.js";
import { alwaysPrivate } from "../widget/privacy.js";
import { t } from "./i18n.js";

const TEXT_EVERY_MS = 60; // typed characters go in one message this often
const SCROLL_EVERY_MS = 100;
// Why the customer's page refused an input (the widget's codes).
const REFUSED = {
  private: "control.why_private",
  masked: "control.why_masked",
  foreign: "control.why_foreign",
  gone: "control.why_gone",
};

/** Whether the agent may type into `element` of the mirror: only fields they can see as typed. */
export function typeable(element) {
  const field = element?.closest?.("input, textarea");
  if (!field || field.closest(".rr-block, [data-otodesk-private], [data-otodesk-mask]")) return false;
  if (alwaysPrivate(field)) return false;
  if (field.hasAttribute("data-otodesk-unmask")) return true;
  return !!field.value && !/^\*+$/.test(field.value); // a masked field replays as asterisks
}

export class ControlBar {
  /** @param {import("./cobrowse.js").CobrowsePanel} panel */
  constructor(panel) {
    this.panel = panel;
    this.socket = panel.socket;
    this.control = "off"; // off | asking | requested | granted
    this.focusNode = null; // the field typing goes to
    this.pendingText = "";
    this.pages = new Map(); // url -> title, pages the customer visited
    this._build();
    this._listen();
    panel.onChange.add(() => this.render());
    this.render();
  }

  _build() {
    this.url = h("input", { type: "text", class: "input", list: "cobrowse-pages", placeholder: t("control.url_placeholder"), "aria-label": t("control.url_label"), dataset: { testid: "cobrowse-nav-url" } });
    this.datalist = h("datalist", { id: "cobrowse-pages" });
    this.goButton = h("button", { type: "submit", class: "btn", dataset: { testid: "btn-cobrowse-nav" } }, t("control.send"));
    this.controlButton = h("button", { type: "button", class: "btn", dataset: { testid: "btn-cobrowse-control" }, onclick: () => this.toggleControl() }, t("control.ask"));
    this.status = h("span", { class: "small muted", role: "status", dataset: { testid: "cobrowse-control-status" } });
    this.element = h("form", { class: "cobrowse-control", dataset: { testid: "cobrowse-control" }, onsubmit: (event) => {
      event.preventDefault();
      this.navigate();
    } }, this.url, this.datalist, this.goButton, this.controlButton, this.status);
    this.panel.element.querySelector(".cobrowse-head").after(this.element);

    // Input on the mirror: listen on its stable container (the mirror inside is rebuilt per page).
    const stage = this.panel.stage;
    stage.addEventListener("click", (event) => this._click(event), true);
    stage.addEventListener("keydown", (event) => this._key(event));
    stage.addEventListener("wheel", (event) => this._wheel(event), { passive: false });
  }

  _listen() {
    const socket = this.socket;
    const note = (card) => {
      for (const page of card?.trail || []) if (page.url && !this.pages.has(page.url)) this.pages.set(page.url, page.title || "");
    };
    socket.on("welcome", (message) => note(message.contact || message.offer));
    socket.on("contact", (message) => note(message.contact));
    socket.on("offer", (message) => note(message.offer));
    socket.on("customer_page", (message) => {
      if (message.url) this.pages.set(message.url, message.title || "");
      this._renderPages();
    });
    socket.on("cobrowse_navigate_answer", (message) => {
      if (message.visitor_id !== this.panel.visitorId) return;
      this._say(message.go ? t("control.going", { url: message.url }) : t("control.stayed"), message.go ? "went" : "stayed");
    });
    socket.on("cobrowse_control_state", (message) => {
      if (message.visitor_id !== this.panel.visitorId) return;
      if (message.state === "granted") {
        this.control = "granted";
        this._say(t("control.granted"), "granted");
      } else {
        this.control = "off";
        this.focusNode = null;
        const why = { customer: "control.taken_back", page: "control.page_load", agent: "control.given_back" };
        this._say(t(message.state === "refused" ? "control.refused" : why[message.by] || "control.ended"), message.state);
      }
      this.render();
    });
    socket.on("cobrowse_control_refused", (message) => {
      if (message.visitor_id === this.panel.visitorId) this._say(REFUSED[message.reason] ? t("control.page_refused", { why: t(REFUSED[message.reason]) }) : t("control.page_refused_plain"), "refused-input");
    });
    socket.on("cobrowse_state", (message) => {
      if (message.visitor_id === this.panel.visitorId && message.state !== "sharing") {
        this.control = "off";
        this.focusNode = null;
        this.render();
      }
    });
  }

  _say(text, kind = "") {
    setText(this.status, text);
    this.status.dataset.kind = kind;
  }

  _renderPages() {
    this.datalist.replaceChildren(...[...this.pages].map(([url, title]) => h("option", { value: url }, title || url)));
  }

  render() {
    const sharing = this.panel.state === "sharing" && !!this.panel.visitorId;
    this.element.hidden = !sharing;
    if (!sharing && this.control !== "off") {
      this.control = "off";
      this.focusNode = null;
    }
    setText(this.controlButton, t(this.control === "granted" ? "control.give_back" : "control.ask"));
    this.controlButton.disabled = this.control === "asking" || this.control === "requested";
    this.controlButton.dataset.state = this.control;
    this.panel.stage.dataset.control = this.control;
    this._renderPages();
  }

  async navigate() {
    const url = this.url.value.trim();
    if (!url) return;
    try {
      const ack = await this.socket.send("cobrowse_navigate", { visitor_id: this.panel.visitorId, url, title: this.pages.get(url) || "" });
      this._say(t("control.asked", { url: ack.url }), "asked");
      this.url.value = "";
    } catch (error) {
      this._say(errorText(t, error), "error");
    }
  }

  async toggleControl() {
    const action = this.control === "granted" ? "release" : "request";
    if (action === "request") this.control = "asking";
    this.render();
    try {
      await this.socket.send("cobrowse_control", { visitor_id: this.panel.visitorId, action });
      if (action === "request" && this.control === "asking") {
        this.control = "requested";
        this._say(t("control.waiting"), "requested");
      }
    } catch (error) {
      this.control = "off";
      this._say(errorText(t, error), "error");
    }
    this.render();
  }

  // -- input on the mirror ------------------------------------------------------------

  /** The mirror's element under a desk event, its rrweb id and the offset in it. */
  _target(event) {
    const view = this.panel.view;
    const replayer = view?.replayer;
    const doc = view?.document;
    if (!replayer?.iframe || !doc) return null;
    const frame = replayer.iframe.getBoundingClientRect();
    const x = (event.clientX - frame.left) / view.scale;
    const y = (event.clientY - frame.top) / view.scale;
    const element = doc.elementFromPoint(x, y);
    const node = element ? replayer.getMirror().getId(element) : -1;
    if (!element || !(node > 0)) return null;
    const rect = element.getBoundingClientRect();
    const fx = rect.width ? Math.min(1, Math.max(0, (x - rect.left) / rect.width)) : 0.5;
    const fy = rect.height ? Math.min(1, Math.max(0, (y - rect.top) / rect.height)) : 0.5;
    return { element, node, fx, fy };
  }

  _send(fields) {
    this.socket.notify("cobrowse_input", { visitor_id: this.panel.visitorId, ...fields });
  }

  _click(event) {
    if (this.control !== "granted") return;
    event.target.tabIndex = 0;
    event.target.focus?.({ preventScroll: true }); // typing comes here next
    const target = this._target(event);
    if (!target) return;
    this._flushText();
    const field = target.element.closest("input, textarea, select, [contenteditable]");
    if (field && (alwaysPrivate(field) || (field.matches("input, textarea") && !typeable(field)))) {
      this.focusNode = null;
      this._say(t("control.not_sent", { why: t(REFUSED.masked) }), "refused-input");
      return;
    }
    if (target.element.closest(".rr-block, [data-otodesk-private]")) {
      this.focusNode = null;
      this._say(t("control.not_sent", { why: t(REFUSED.private) }), "refused-input");
      return;
    }
    this.focusNode = field ? target.node : null;
    this._send({ action: "click", node: target.node, fx: target.fx, fy: target.fy });
  }

  _key(event) {
    if (this.control !== "granted" || event.ctrlKey || event.metaKey || event.altKey) return;
    const printable = event.key.length === 1;
    if (!printable && event.key !== "Backspace" && event.key !== "Enter") return;
    event.preventDefault();
    if (this.focusNode == null) {
      this._say(t("control.click_first"), "refused-input");
      return;
    }
    if (printable) {
      this.pendingText += event.key;
      if (this.pendingText.length >= 60) this._flushText();
      else this._textTimer ??= setTimeout(() => this._flushText(), TEXT_EVERY_MS);
      return;
    }
    this._flushText();
    this._send({ action: "key", node: this.focusNode, key: event.key });
  }

  _flushText() {
    clearTimeout(this._textTimer);
    this._textTimer = null;
    const text = this.pendingText;
    this.pendingText = "";
    if (text && this.focusNode != null) this._send({ action: "text", node: this.focusNode, text });
  }

  _wheel(event) {
    if (this.control !== "granted") return;
    event.preventDefault();
    const scale = this.panel.view?.scale || 1;
    this.scrollX = (this.scrollX || 0) + event.deltaX / scale;
    this.scrollY = (this.scrollY || 0) + event.deltaY / scale;
    this._scrollTimer ??= setTimeout(() => {
      this._scrollTimer = null;
      const dx = Math.max(-5000, Math.min(5000, Math.round(this.scrollX)));
      const dy = Math.max(-5000, Math.min(5000, Math.round(this.scrollY)));
      this.scrollX = this.scrollY = 0;
      if (dx || dy) this._send({ action: "scroll", dx, dy });
    }, SCROLL_EVERY_MS);
  }
}
