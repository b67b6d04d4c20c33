// Documents an agent pushes, in an overlay on the customer's page.
//
// Loaded by widget.js on the first `doc_open`; pdf.js (/static/vendor/pdfjs/,
// legacy build) only when a PDF is opened. Page turns and zoom go both ways:
// the agent's `doc_page` moves this view, and every change made here (or
// applied from the agent) is reported back with `doc_page`, so both sides see
// which page the customer is on. The customer can download or close; the agent
// can take a document back (`doc_closed`). Several documents: one tab each.
// The overlay says which page the agent is on (the desk shows the customer's page,
// so it follows every turn made here; the agent's own turns arrive as `doc_page`).
//
// Open documents survive page loads: each is kept in sessionStorage with the
// signed token of its `doc_open`; the next page sends `doc_resume` and shows it
// again at the same page and zoom (widget.js loads this module when it finds them).
import { h, setText } from "../common/dom.js";

const ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3];
const STORE_KEY = "otodesk.documents";

function restore() {
  try {
    const items = JSON.parse(sessionStorage.getItem(STORE_KEY) || "[]");
    return Array.isArray(items) ? items : [];
  } catch {
    return [];
  }
}

let pdfjs = null;
function loadPdfjs(base) {
  pdfjs ??= import(`${base}/static/vendor/pdfjs/pdf.min.mjs`).then((lib) => {
    lib.GlobalWorkerOptions.workerSrc = `${base}/static/vendor/pdfjs/pdf.worker.min.mjs`;
    return lib;
  }).catch((error) => {
    pdfjs = null;
    throw error;
  });
  return pdfjs;
}

const css = `
:host { all: initial; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1f2433; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.overlay { position: fixed; z-index: 2147483300; left: 24px; top: 56px; bottom: 96px; width: min(640px, calc(100vw - 48px));
  display: flex; flex-direction: column; background: #fff; border-radius: 12px; border: 1px solid #d9dce6;
  box-shadow: 0 16px 48px rgba(20,20,60,.35); overflow: hidden; }
header { display: flex; align-items: center; gap: 8px; padding: 8px 10px; border-bottom: 1px solid #e3e6ee; background: #f6f7fb; }
header .title { flex: 1; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.tabs { display: flex; gap: 4px; padding: 6px 10px 0; }
.tabs button { font-size: 12px; }
.tabs button[aria-selected="true"] { background: #eef0ff; border-color: #4338ca; }
.controls { display: flex; align-items: center; gap: 6px; padding: 6px 10px; border-bottom: 1px solid #e3e6ee; }
.controls .page { min-width: 90px; text-align: center; }
button, a.button { font: inherit; border-radius: 8px; padding: 4px 10px; cursor: pointer; border: 1px solid #c7cbd9; background: #fff; color: #1f2433; text-decoration: none; }
button:disabled { opacity: .45; cursor: default; }
button:focus-visible, a.button:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.body { flex: 1; overflow: auto; background: #eceef4; padding: 12px; text-align: center; }
canvas, img { background: #fff; box-shadow: 0 2px 8px rgba(0,0,0,.15); max-width: none; }
.from { font-size: 12px; color: #5b6275; }
header .from { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; flex: 0 1 auto; }
header a.button, header button { flex: none; }
/* Left of the widget's panel (bottom right) where there is room; on a phone, between the
   co-browse bar (68 px at most) and the widget's launcher; the widget, above, can cover it. */
@media (max-width: 480px) {
  .overlay { left: 8px; right: 8px; width: auto; top: 72px; bottom: 72px; }
  header .from { display: none; }
  .controls { flex-wrap: wrap; }
  .controls .from { flex-basis: 100%; }
}
`;

class Documents {
  constructor(socket, base, language) {
    this.socket = socket;
    this.base = base;
    this.language = language; // language.js: the customer's words
    this.open = new Map(); // push_id -> {document, page, pages, zoom, pdf, from, agentPage, token}
    this.current = null;
    this.waiting = restore(); // documents of the previous page, re-opened once the socket is ready
    this._build();
    socket.on("doc_page", (message) => this._remotePage(message));
    socket.on("doc_closed", (message) => this._remove(message.push_id));
    const resume = () => this._resume();
    socket.on("welcome", resume);
    socket.on("resumed", resume);
    if (socket.ready) resume();
  }

  async _resume() {
    const items = this.waiting;
    this.waiting = [];
    let first = null;
    for (const item of items) {
      if (!item?.push_id || !item.token || this.open.has(item.push_id)) continue;
      try {
        const ack = await this.socket.send("doc_resume", { token: item.token, page: item.page || 1, zoom: item.zoom || 1, pages: item.pages || null });
        const url = new URL(ack.url, this.base).toString();
        this.open.set(item.push_id, { ...item, document: { ...item.document, url }, pdf: null });
        first ??= item.push_id;
      } catch (error) {
        console.warn("otodesk: a document could not be re-opened", error);
      }
    }
    this._persist();
    const current = items.find((item) => item?.current && this.open.has(item.push_id))?.push_id || first;
    if (current) await this._show(current, { report: false }); // the server told the desk already
  }

  /** What the next page needs to re-open the documents (no pixels, no pdf.js state). */
  _persist() {
    const items = [...this.open.entries()].map(([pushId, item]) => ({
      push_id: pushId, token: item.token, document: item.document, page: item.page, pages: item.pages,
      zoom: item.zoom, from: item.from, agentPage: item.agentPage, current: pushId === this.current,
    }));
    try {
      if (items.length) sessionStorage.setItem(STORE_KEY, JSON.stringify(items));
      else sessionStorage.removeItem(STORE_KEY);
    } catch {
      /* without storage a document closes with the page */
    }
  }

  _build() {
    this.host = document.createElement("otodesk-documents");
    this.host.setAttribute("data-otodesk", ""); // never recorded by co-browse
    this.root = this.host.attachShadow({ mode: "open" });
    const { t } = this.language;
    const style = document.createElement("style");
    style.textContent = css;
    this.title = h("span", { class: "title", dataset: { testid: "otodesk-doc-title" } });
    this.from = h("span", { class: "from" });
    this.download = h("a", { class: "button", dataset: { testid: "otodesk-doc-download" }, download: "" }, t("document.download"));
    this.tabs = h("div", { class: "tabs", role: "tablist" });
    this.pageText = h("span", { class: "page", dataset: { testid: "otodesk-doc-page" }, "aria-live": "polite" });
    this.agentPage = h("span", { class: "from", dataset: { testid: "otodesk-doc-agent-page" } });
    this.zoomText = h("span", { dataset: { testid: "otodesk-doc-zoom" } });
    this.prev = h("button", { type: "button", "aria-label": t("document.previous"), dataset: { testid: "otodesk-doc-prev" }, onclick: () => this._turn(-1) }, "‹");
    this.next = h("button", { type: "button", "aria-label": t("document.next"), dataset: { testid: "otodesk-doc-next" }, onclick: () => this._turn(1) }, "›");
    this.body = h("div", { class: "body" });
    this.overlay = h("section", {
      class: "overlay", role: "dialog", "aria-label": t("document.dialog"), hidden: true, dataset: { testid: "otodesk-doc" },
      onkeydown: (event) => {
        if (event.key === "Escape") this._close();
        if (event.key === "ArrowRight" || event.key === "PageDown") this._turn(1);
        if (event.key === "ArrowLeft" || event.key === "PageUp") this._turn(-1);
      },
    },
    h("header", {}, this.title, this.from, this.download,
      h("button", { type: "button", "aria-label": t("document.close"), dataset: { testid: "otodesk-doc-close" }, onclick: () => this._close() }, "×")),
    this.tabs,
    h("div", { class: "controls" }, this.prev, this.pageText, this.next,
      h("button", { type: "button", "aria-label": t("document.zoom_out"), dataset: { testid: "otodesk-doc-zoom-out" }, onclick: () => this._zoom(-1) }, "−"),
      this.zoomText,
      h("button", { type: "button", "aria-label": t("document.zoom_in"), dataset: { testid: "otodesk-doc-zoom-in" }, onclick: () => this._zoom(1) }, "+"),
      this.agentPage),
    this.body);
    this.root.append(style, this.overlay);
    document.body.append(this.host);
  }

  /** A `doc_open` from the agent. */
  receive(message) {
    if (message.type !== "doc_open" || !message.document) return;
    const url = new URL(message.document.url, this.base).toString();
    this.open.set(message.push_id, { document: { ...message.document, url }, page: 1, pages: null, zoom: 1, pdf: null, from: message.agent_name || "", agentPage: 1, token: message.token || null });
    this._show(message.push_id);
  }

  async _show(pushId, { report = true } = {}) {
    const item = this.open.get(pushId);
    if (!item) return;
    this.current = pushId;
    this.overlay.hidden = false;
    setText(this.title, item.document.name);
    setText(this.from, item.from ? this.language.t("document.from", { agent: item.from }) : "");
    this.download.href = `${item.document.url}&download=1`;
    this._renderTabs();
    await this._render({ report });
  }

  _renderTabs() {
    this.tabs.replaceChildren(...[...this.open.entries()].map(([pushId, item]) => h("button", {
      type: "button", role: "tab", "aria-selected": String(pushId === this.current), onclick: () => this._show(pushId),
    }, item.document.name)));
    this.tabs.hidden = this.open.size < 2;
  }

  async _render({ report = false } = {}) {
    const pushId = this.current;
    const item = this.open.get(pushId);
    if (!item) return;
    this.overlay.dataset.push = pushId;
    try {
      if (item.document.kind === "pdf") {
        const lib = await loadPdfjs(this.base);
        item.pdf ??= await lib.getDocument({ url: item.document.url, withCredentials: false }).promise;
        item.pages = item.pdf.numPages;
        item.page = Math.min(item.page, item.pages);
        const page = await item.pdf.getPage(item.page);
        const viewport = page.getViewport({ scale: item.zoom * (window.devicePixelRatio || 1) });
        const canvas = h("canvas", { dataset: { testid: "otodesk-doc-canvas", page: String(item.page) } });
        canvas.width = Math.floor(viewport.width);
        canvas.height = Math.floor(viewport.height);
        canvas.style.width = `${Math.floor(viewport.width / (window.devicePixelRatio || 1))}px`;
        await page.render({ canvasContext: canvas.getContext("2d"), viewport, canvas }).promise;
        if (this.current !== pushId) return;
        this.body.replaceChildren(canvas);
      } else {
        item.pages = 1;
        const image = h("img", { src: item.document.url, alt: item.document.name, dataset: { testid: "otodesk-doc-image" }, style: { width: `${Math.round(item.zoom * 100)}%` } });
        this.body.replaceChildren(image);
      }
    } catch (error) {
      console.warn("otodesk: the document could not be shown", error);
      this.body.replaceChildren(h("p", {}, this.language.t("document.failed")));
    }
    const { t } = this.language;
    setText(this.pageText, item.pages ? t("document.page", { page: item.page, pages: item.pages }) : t("document.page_counting", { page: item.page }));
    this.pageText.dataset.page = String(item.page);
    setText(this.zoomText, t("document.zoom", { percent: Math.round(item.zoom * 100) }));
    this.prev.disabled = item.page <= 1;
    this.next.disabled = item.pages !== null && item.page >= item.pages;
    this.agentPage.dataset.page = String(item.agentPage || "");
    setText(this.agentPage, !item.agentPage ? ""
      : item.from ? t("document.agent_page", { agent: item.from, page: item.agentPage }) : t("document.agent_page_anonymous", { page: item.agentPage }));
    this._persist();
    if (report) this._report(item);
  }

  _report(item) {
    this.socket.notify("doc_page", { push_id: this.current, page: item.page, zoom: item.zoom, pages: item.pages || null });
  }

  _turn(step) {
    const item = this.open.get(this.current);
    if (!item) return;
    const page = Math.max(1, Math.min(item.pages || 1, item.page + step));
    if (page === item.page) return;
    item.page = page;
    item.agentPage = page; // the desk shows the page the customer is on
    this._render({ report: true });
  }

  _zoom(step) {
    const item = this.open.get(this.current);
    if (!item) return;
    const index = ZOOMS.findIndex((zoom) => zoom >= item.zoom - 1e-6);
    const zoom = ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, (index < 0 ? 2 : index) + step))];
    if (zoom === item.zoom) return;
    item.zoom = zoom;
    this._render({ report: true });
  }

  /** The agent turned a page or zoomed: follow, and confirm where we are. */
  _remotePage(message) {
    const item = this.open.get(message.push_id);
    if (!item) return;
    item.page = Math.max(1, Math.min(item.pages || message.page, message.page));
    item.zoom = message.zoom || item.zoom;
    if (message.by === "agent") item.agentPage = item.page;
    if (this.current !== message.push_id) this._show(message.push_id);
    else this._render({ report: true });
  }

  _close() {
    const pushId = this.current;
    if (!pushId) return;
    this.socket.notify("doc_close", { push_id: pushId });
    this._remove(pushId);
  }

  _remove(pushId) {
    const item = this.open.get(pushId);
    if (!item) return;
    item.pdf?.destroy?.();
    this.open.delete(pushId);
    if (this.current === pushId) {
      this.current = this.open.keys().next().value ?? null;
      if (this.current) this._show(this.current);
      else {
        this.overlay.hidden = true;
        this.body.replaceChildren();
      }
    } else this._renderTabs();
    this._persist();
  }
}

let instance = null;

/** Called by widget.js on the first pushed document. */
export function start(socket, { base, language }) {
  instance ??= new Documents(socket, base, language);
  return instance;
}
