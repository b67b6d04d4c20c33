// What the widget draws before the customer opens it: the shadow host and the
// launcher button, nothing else. The panel (the form and the status: ui.js, with
// its stylesheet and icons) is fetched when it is first needed: when the customer
// points at or focuses the launcher (so it is there by the click), opens it, or
// has a request to show. A page where nobody asks for a call pays for the launcher.
//
// WidgetShell has the interface of ui.js's WidgetUI that widget.js uses; what is
// asked of it before the panel is there is kept and replayed in order.

export const ACTIVE_STATES = new Set(["scheduled", "queued", "offered", "connected"]);
export const FINAL_STATES = new Set(["completed", "cancelled", "abandoned"]);

/** The launcher's own styles; the panel's (styles.js) come with it. Its z-index: above a pushed
 * document (2147483300), under the co-browse bar and prompt. (No comments inside: every byte of
 * this text is in every page's first load.) */
export const launcherCss = `
:host {
  all: initial; position: fixed; right: 20px; bottom: 20px;
  z-index: 2147483450;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2433;
  --accent: #4338ca; --accent-dark: #3730a3; --accent-soft: #eef0ff;
  --ok: #047857; --warn: #b45309; --bad: #b91c1c; --muted: #5b6275; --line: #d9dce6;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.root { display: flex; flex-direction: column; align-items: flex-end; gap: 12px; }
.launcher {
  display: inline-flex; align-items: center; gap: 8px;
  border: 0; border-radius: 999px; padding: 12px 20px 12px 16px;
  background: var(--accent); color: #fff; font: inherit; font-weight: 600;
  box-shadow: 0 6px 20px rgba(40, 40, 90, .28); cursor: pointer;
  transition: transform .15s ease, background .15s ease;
}
.launcher:hover { background: var(--accent-dark); transform: translateY(-1px); }
.launcher:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.launcher .icon { font-size: 18px; line-height: 1; display: inline-flex; }
.launcher .badge { background: #fff; color: var(--accent-dark); border-radius: 999px; padding: 1px 8px; font-size: 13px; font-weight: 700; }
.launcher.live { animation: pulse 1.6s ease-in-out infinite; }
@keyframes pulse { 50% { box-shadow: 0 0 0 8px rgba(67, 56, 202, .18), 0 6px 20px rgba(40, 40, 90, .28); } }
@media (max-width: 480px) { :host { right: 12px; bottom: 12px; left: auto; } }
@media (prefers-reduced-motion: reduce) { .launcher, .launcher.live { animation: none; transition: none; } }
`;

const SVG_NS = "http://www.w3.org/2000/svg";
// icons.js's "phone", drawn here so the launcher needs none of icons.js.
const PHONE = "M5 2h3l1.5 4.5-2 1.5a11 11 0 0 0 8.5 8.5l1.5-2 4.5 1.5v3a2 2 0 0 1-2 2A17 17 0 0 1 3 4a2 2 0 0 1 2-2z";

function phoneIcon() {
  const svg = document.createElementNS(SVG_NS, "svg");
  const attrs = { class: "icon", viewBox: "0 0 24 24", width: "1em", height: "1em", fill: "none", stroke: "currentColor",
    "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", focusable: "false",
    "data-icon-name": "phone" };
  for (const [key, value] of Object.entries(attrs)) svg.setAttribute(key, String(value));
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", PHONE);
  svg.append(path);
  return svg;
}

function element(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

export class WidgetShell {
  /**
   * @param {object} handlers  as WidgetUI's (ui.js)
   * @param {import("./language.js").WidgetLanguage} language  the customer's language
   */
  constructor(handlers, language) {
    this.handlers = handlers;
    this.language = language;
    this.ui = null; // the panel, once loaded
    this._loading = null;
    this._queued = [];
    this._callback = null;
    this._launcherWanted = false;

    this.host = document.createElement("otodesk-widget");
    this.host.setAttribute("data-otodesk", "");
    this.root = this.host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = launcherCss;
    this.badge = element("span", { class: "badge", "data-testid": "otodesk-badge" });
    this.badge.hidden = true;
    const { t } = language;
    this.launcherText = element("span", { class: "text" }, t("launcher.call"));
    this.launcher = element("button", {
      type: "button", class: "launcher", id: "otodesk-launcher", "aria-controls": "otodesk-panel",
      "aria-expanded": "false", "aria-label": t("launcher.label"), "data-testid": "otodesk-launcher",
    }, element("span", { class: "icon", "aria-hidden": "true" }, phoneIcon()), this.launcherText, this.badge);
    this.launcher.hidden = true;
    this.launcher.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    for (const event of ["pointerenter", "focus", "touchstart"]) {
      this.launcher.addEventListener(event, () => this.load(), { once: true, passive: true });
    }
    this.main = element("div", { class: "root" }, this.launcher);
    this.root.append(style, this.main);
    document.body.append(this.host);
    language.onChange(() => this._relabel());
  }

  /** The panel (ui.js's WidgetUI), fetched once, with the words of the customer's language. */
  load() {
    this._loading ??= Promise.all([import("./ui.js"), this.language.load()]).then(([{ WidgetUI }]) => {
      this.ui = new WidgetUI(this.handlers, this);
      for (const [name, args] of this._queued.splice(0)) this.ui[name](...args);
      this._revealLauncher();
      return this.ui;
    });
    return this._loading;
  }

  _later(name, ...args) {
    if (this.ui) return this.ui[name](...args);
    this._queued.push([name, args]);
    return undefined;
  }

  get isOpen() { return this.ui ? this.ui.isOpen : false; }
  get mode() { return this.ui ? this.ui.mode : this._callback ? "status" : "form"; }
  get callback() { return this.ui ? this.ui.callback : this._callback; }
  get status() { return this.ui?.status ?? null; }

  prefill(values) { return this._later("prefill", values); }
  setValue(name, value) { return this._later("setValue", name, value); }
  setQueues(queues) { return this._later("setQueues", queues); }
  setConnection(state) { return this._later("setConnection", state); }

  /** A request to show: the panel is needed (its state shows on the launcher too). */
  setCallback(callback) {
    this._callback = callback;
    this._later("setCallback", callback);
    if (callback) this.load();
  }

  showForm(options) {
    this._later("showForm", options);
    this.load();
  }

  open(options) {
    this._later("open", options);
    this.load();
  }

  close() { return this._later("close"); }

  /**
   * The console's look (the welcome's `look`: accent #rrggbb, checked by the server, position,
   * greeting per language). Kept this small: it is in every page's first load. The panel's
   * shades of the colour (styles.js) and the greeting (ui.js) come with the panel.
   */
  setLook(look) {
    if (!look) return;
    this.look = look;
    this.host.style.cssText = `--accent:${look.accent}${look.position === "bottom-left" ? ";left:20px;right:auto" : ""}`;
    this.ui?.relook();
  }

  /** Another language: the launcher's words, or the panel drawn anew in it (ui.js). */
  _relabel() {
    if (this.ui) {
      this.ui = this.ui.redrawn();
      return;
    }
    this.launcherText.textContent = this.language.t("launcher.call");
    this.launcher.setAttribute("aria-label", this.language.t("launcher.label"));
  }

  showLauncher() {
    this._launcherWanted = true;
    this._revealLauncher();
  }

  _revealLauncher() {
    // With a request to show, wait for the panel: the launcher then says "In line", not "Call me".
    if (this._launcherWanted && (this.ui || !this._callback)) this.launcher.hidden = false;
  }
}
