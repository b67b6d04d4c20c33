// The agent's hand on the customer's page, beyond the pointer (desktop/cobrowse/control.py):
//
// - "Go to this page": the agent proposes a page of this same site; the customer
//   sees "Your agent wants to take you to …" with Go / Stay. Another origin is
//   refused here too, whatever the server said. On Go the page loads and the
//   share continues there (the token in sessionStorage, as for any page load).
// - Remote control, when the site allows it and the customer says yes each time:
//   the agent's clicks, scrolls and typing arrive as rrweb node ids and are
//   applied here, never into a hidden field (password, card, masked, private),
//   never a link to another site. A banner says "<agent> has control — Esc or
//   click to revoke"; Esc or any click of the customer takes it back at once.
//
// Created by cobrowse.js; draws in its shadow root.
import { h, setText } from "../common/dom.js";
import { alwaysPrivate, maskInput } from "./privacy.js";

const css = `
.nav-prompt, .control-prompt { position: fixed; z-index: 2147483600; left: 50%; top: 24px; transform: translateX(-50%);
  width: min(440px, calc(100vw - 24px)); background: #fff; border-radius: 12px; padding: 18px 20px;
  box-shadow: 0 12px 40px rgba(20, 20, 60, .35); border: 1px solid #d9dce6; }
.nav-prompt h2, .control-prompt h2 { font-size: 17px; margin: 0 0 6px; overflow-wrap: anywhere; }
.nav-prompt .url { color: #4b5263; font-size: 13px; margin: 0 0 12px; overflow-wrap: anywhere; }
.control-banner { position: fixed; z-index: 2147483560; left: 50%; bottom: 12px; transform: translateX(-50%);
  display: flex; align-items: center; gap: 10px; padding: 8px 10px 8px 14px; background: #b45309; color: #fff;
  border-radius: 10px; box-shadow: 0 4px 14px rgba(0,0,0,.3); font-weight: 600; }
.control-banner button { padding: 4px 10px; font-size: 13px; }
`;

function sameOrigin(url, base = location.href) {
  try {
    return new URL(url, base).origin === location.origin;
  } catch {
    return false;
  }
}

const XLINK = "http://www.w3.org/1999/xlink";

/** Where a click on `element` would navigate or submit to, read from attributes (never from
 * properties a page element can clobber: `form.action` is an <input name=action>, an SVG
 * link's `href` is an object). null when it goes nowhere. */
function destinations(element) {
  const base = element.ownerDocument?.baseURI || location.href;
  const found = [];
  const link = element.closest("a, area");
  const href = link && (link.getAttribute("href") ?? link.getAttributeNS(XLINK, "href"));
  if (href != null) found.push(href);
  // A submit button may belong to a form elsewhere (form="…") and carry its own formaction.
  const submitter = element.closest("button, input");
  const form = submitter?.form || element.closest("form");
  if (form) {
    const own = submitter && /^(submit|image)$/i.test(submitter.type) ? submitter.getAttribute("formaction") : null;
    found.push(own || form.getAttribute("action") || "");
  }
  return found.map((url) => [url, base]);
}

/** The field a click on `element` acts on: itself, or the control of the label it is in. */
function targetField(element) {
  const label = element.closest("label");
  return element.closest("input, textarea, select, [contenteditable]") || label?.control || null;
}

/** Set a field's value the way typing does, so the page's own code sees an input event. */
function setValue(field, value) {
  const proto = field instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, "value").set.call(field, value);
  field.dispatchEvent(new Event("input", { bubbles: true }));
}

export class Control {
  /** @param {object} cobrowse  the Cobrowse controller of cobrowse.js */
  constructor(cobrowse) {
    this.cb = cobrowse;
    this.socket = cobrowse.socket;
    this.language = cobrowse.language;
    this.nav = null; // the pending cobrowse_navigate
    this.request = null; // the pending cobrowse_control_request
    this.agent = null; // the agent's name while they have control
    this._build();
    const socket = this.socket;
    socket.on("cobrowse_navigate", (message) => this._proposed(message));
    socket.on("cobrowse_control_request", (message) => this._asked(message));
    socket.on("cobrowse_control_state", (message) => {
      if (message.state === "revoked" && this.agent) this._lost(this.language.t("control.given_back", { agent: this.agent }));
    });
    socket.on("cobrowse_input", (message) => this._input(message));
    // The customer's own Esc or click takes control back at once (capture: before the page sees it).
    this.watched = new WeakSet(); // windows whose Esc and clicks revoke control
    this._watch(window);
  }

  /** Esc or a click in `win` (this page, or a same-origin frame of it) takes control back. */
  _watch(win) {
    if (this.watched.has(win)) return;
    this.watched.add(win);
    win.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !event.isTrusted) return;
      if (this.agent) {
        event.preventDefault();
        this.revoke();
      } else if (!this.navPrompt.hidden) this._go(false);
      else if (!this.controlPrompt.hidden) this._allow(false);
    }, true);
    win.addEventListener("pointerdown", (event) => {
      if (this.agent && event.isTrusted) this.revoke();
    }, true);
  }

  /** Same-origin frames get their own events: a customer typing Esc or clicking in one revokes too. */
  _watchFrames(doc = document) {
    for (const frame of doc.querySelectorAll("iframe, frame")) {
      try {
        const inner = frame.contentWindow;
        if (inner && inner.document) {
          this._watch(inner);
          this._watchFrames(inner.document);
        }
      } catch {
        /* cross-origin: the agent can't act in it either (not mirrored) */
      }
    }
  }

  _build() {
    const { t } = this.language;
    const style = document.createElement("style");
    style.textContent = css;
    this.navTitle = h("h2", { id: "otodesk-nav-title" });
    this.navUrl = h("p", { class: "url", dataset: { testid: "otodesk-nav-url" } });
    this.navPrompt = h("div", { class: "nav-prompt", role: "alertdialog", "aria-labelledby": "otodesk-nav-title", hidden: true, dataset: { testid: "otodesk-nav-prompt" } },
      this.navTitle, this.navUrl,
      h("div", { class: "actions" },
        h("button", { type: "button", dataset: { testid: "otodesk-nav-stay" }, onclick: () => this._go(false) }, t("control.stay")),
        h("button", { type: "button", class: "primary", dataset: { testid: "otodesk-nav-go" }, onclick: () => this._go(true) }, t("control.go"))));

    this.controlTitle = h("h2", { id: "otodesk-control-title" });
    this.controlPrompt = h("div", { class: "control-prompt", role: "alertdialog", "aria-labelledby": "otodesk-control-title", hidden: true, dataset: { testid: "otodesk-control-prompt" } },
      this.controlTitle,
      h("ul", {},
        h("li", {}, t("control.will_act")),
        h("li", {}, t("control.never_hidden")),
        h("li", {}, t("control.take_back_how"))),
      h("div", { class: "actions" },
        h("button", { type: "button", dataset: { testid: "otodesk-control-refuse" }, onclick: () => this._allow(false) }, t("control.refuse")),
        h("button", { type: "button", class: "primary", dataset: { testid: "otodesk-control-allow" }, onclick: () => this._allow(true) }, t("control.allow"))));

    this.bannerText = h("span", {});
    this.banner = h("div", { class: "control-banner", role: "status", hidden: true, dataset: { testid: "otodesk-control-banner" } },
      this.bannerText,
      h("button", { type: "button", class: "stop", dataset: { testid: "otodesk-control-revoke" }, onclick: () => this.revoke() }, t("control.take_back")));
    this.cb.root.append(style, this.navPrompt, this.controlPrompt, this.banner);
  }

  // -- "go to this page" -----------------------------------------------------------

  _proposed(message) {
    if (!this.cb.share) return;
    if (!sameOrigin(message.url)) {
      // Never reached with a working server; refused here anyway: this device decides.
      this.socket.send("cobrowse_navigate_answer", { nav_id: message.nav_id, go: false }).catch(() => {});
      this.cb._showNote(this.language.t("control.other_site"));
      return;
    }
    this.nav = message;
    const where = message.title || new URL(message.url, location.href).pathname;
    setText(this.navTitle, message.agent_name ? this.language.t("control.navigate", { agent: message.agent_name, where })
      : this.language.t("control.navigate_anonymous", { where }));
    setText(this.navUrl, message.url);
    this.navPrompt.hidden = false;
    this.navPrompt.querySelector(".primary").focus({ preventScroll: true });
  }

  async _go(go) {
    const nav = this.nav;
    this.nav = null;
    this.navPrompt.hidden = true;
    if (!nav) return;
    try {
      await this.socket.send("cobrowse_navigate_answer", { nav_id: nav.nav_id, go });
    } catch {
      /* the agent is told when it can be; the customer's choice stands */
    }
    if (go && sameOrigin(nav.url)) location.assign(nav.url);
  }

  // -- remote control ----------------------------------------------------------------

  _asked(message) {
    if (!this.cb.share) return;
    this.request = message;
    setText(this.controlTitle, message.agent_name ? this.language.t("control.asks", { agent: message.agent_name })
      : this.language.t("control.asks_anonymous"));
    this.controlPrompt.hidden = false;
    this.controlPrompt.querySelector(".primary").focus({ preventScroll: true });
  }

  async _allow(accept) {
    const request = this.request;
    this.request = null;
    this.controlPrompt.hidden = true;
    if (!request) return;
    const granting = accept && this.cb.share;
    if (granting) {
      // Banner and Esc work before the server's reply: a revoke sent now follows the answer.
      this.agent = request.agent_name || this.language.t("agent.your");
      setText(this.bannerText, this.language.t("control.banner", { agent: this.agent }));
      this.banner.hidden = false;
      this._watchFrames();
    }
    try {
      await this.socket.send("cobrowse_control_answer", { request_id: request.request_id, accept: Boolean(granting) });
    } catch {
      if (granting) this._lost(this.language.t("control.expired"));
      else this.cb._showNote(this.language.t("control.expired"));
    }
  }

  /** The customer takes control back: nothing more is applied from now on. */
  revoke() {
    if (!this.agent) return;
    this._lost(this.language.t("control.taken_back"));
    this.socket.send("cobrowse_control_revoke", {}).catch(() => {});
  }

  _lost(note) {
    this.agent = null;
    this.banner.hidden = true;
    this.cb._showNote(note);
  }

  /** The share ended: control with it, prompts gone. */
  end() {
    this.agent = null;
    this.nav = this.request = null;
    this.banner.hidden = this.navPrompt.hidden = this.controlPrompt.hidden = true;
  }

  /** Why this device refuses an input on `element`, or null. */
  _refusal(element, action) {
    // The recorder's own selectors: what the agent can't see, the agent can't touch.
    const { block, mask, unmask } = this.cb._selectors();
    const hidden = (el) => {
      try {
        return Boolean(el.closest(block) || el.closest(mask));
      } catch {
        return true; // a bad site selector refuses rather than allows
      }
    };
    if (hidden(element)) return "private";
    // A label acts on its control (maybe a private one elsewhere on the page).
    const field = targetField(element);
    if (field) {
      if (field !== element && hidden(field)) return "private";
      if (alwaysPrivate(field)) return "private";
      if (maskInput("x", field, { unmask }) !== "x") return "masked";
    }
    if ((action === "text" || action === "key") && !(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement)) return "gone";
    if (action === "click" && destinations(element).some(([url, base]) => !sameOrigin(url, base))) return "foreign";
    return null;
  }

  _refuse(reason) {
    this.socket.notify("cobrowse_control_refused", { reason });
  }

  _input(message) {
    if (!this.agent || !this.cb.share) return;
    if (message.action === "scroll") {
      window.scrollBy({ left: Number(message.dx) || 0, top: Number(message.dy) || 0, behavior: "instant" });
      return;
    }
    const node = message.node != null ? this.cb.recorder?.mirror?.getNode(message.node) : null;
    const element = node && (node.nodeType === 1 ? node : node.parentElement);
    if (!element || !element.isConnected || element.closest("[data-otodesk]")) {
      this._refuse("gone");
      return;
    }
    const reason = this._refusal(element, message.action);
    if (reason) {
      this._refuse(reason);
      return;
    }
    const field = element.closest("input, textarea");
    if (message.action === "click") {
      const rect = element.getBoundingClientRect();
      const init = { bubbles: true, cancelable: true, view: window, clientX: rect.left + rect.width * (Number(message.fx) || 0), clientY: rect.top + rect.height * (Number(message.fy) || 0) };
      element.dispatchEvent(new MouseEvent("mousedown", init));
      if (field || element.matches("button, select, a[href], [tabindex]")) element.focus({ preventScroll: true });
      element.dispatchEvent(new MouseEvent("mouseup", init));
      element.click();
      this.cb._highlight(rect);
    } else if (message.action === "text") {
      field.focus({ preventScroll: true });
      setValue(field, field.value + String(message.text || "").replace(/[\r\n]/g, ""));
    } else if (message.action === "key" && message.key === "Backspace") {
      setValue(field, field.value.slice(0, -1));
    } else if (message.action === "key" && message.key === "Enter") {
      const init = { key: "Enter", code: "Enter", bubbles: true, cancelable: true };
      const form = field.form;
      const allowed = form && sameOrigin(form.getAttribute("action") || "", field.ownerDocument.baseURI);
      if (field.dispatchEvent(new KeyboardEvent("keydown", init)) && field instanceof HTMLInputElement && allowed) form.requestSubmit();
    }
  }
}
