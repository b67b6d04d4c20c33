// The desk's documents panel: the library (upload, list), pushing a document
// to the customer of the current offer or contact, and the pushed ones in
// sync: which page the customer is on, page turns and zoom from here, take back.
// The current card comes from the co-browse panel (cobrowse.js), which tracks it.
//
// The agent sees the document too, at the page the customer is on (pdf.js, fetched
// on the first PDF shown). A desk reload gets the documents still open on the
// customer's screen back in `welcome.documents` (the server keeps them). During a contact, an upload belongs to that customer by
// default ("Only for <name>"): listed and pushed only for them, erased with them.
import { errorText, responseError } from "../common/errors.js";
import { h, setText } from "../common/dom.js";
import { ratio, t } from "./i18n.js";

const ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3];

let pdfjs = null;
function loadPdfjs() {
  pdfjs ??= import("/static/vendor/pdfjs/pdf.min.mjs").then((lib) => {
    lib.GlobalWorkerOptions.workerSrc = "/static/vendor/pdfjs/pdf.worker.min.mjs";
    return lib;
  }).catch((error) => {
    pdfjs = null;
    throw error;
  });
  return pdfjs;
}

function csrfToken() {
  return document.querySelector("input[name=csrf_token]")?.value || "";
}

export class DocumentsPanel {
  /**
   * @param {import("../common/socket.js").HubSocket} socket
   * @param {HTMLElement} slot
   * @param {object} options
   * @param {{card: object|null, onChange: Set<Function>}} options.cobrowse  the co-browse panel (current card)
   * @param {(text: string) => void} [options.toast]
   */
  constructor(socket, slot, { cobrowse, toast = () => {} }) {
    this.socket = socket;
    this.cobrowse = cobrowse;
    this.toast = toast;
    this.library = [];
    this.pushed = new Map(); // push_id -> {document, visitorId, page, pages, zoom, closed}
    this.shown = null; // the pushed document shown here
    this.customerId = null; // whose own documents the library lists
    this._build(slot);
    cobrowse.onChange.add(() => {
      const customerId = this.cobrowse.card?.customer?.id || null;
      if (customerId !== this.customerId) {
        this.customerId = customerId;
        this.refresh();
      } else this.render();
    });
    socket.on("doc_page", (message) => this._customerPage(message));
    socket.on("doc_closed", (message) => this._closed(message));
    socket.on("welcome", (message) => this._reopen(message.documents || []));
    this.render();
  }

  _build(slot) {
    this.file = h("input", {
      type: "file", accept: "image/png,image/jpeg,image/webp,application/pdf", dataset: { testid: "doc-upload" },
      onchange: () => this.upload(),
    });
    this.uploadError = h("p", { class: "form-error", role: "alert", dataset: { testid: "doc-upload-error" } });
    this.forCustomer = h("input", { type: "checkbox", checked: true, dataset: { testid: "doc-upload-for-customer" } });
    this.forCustomerText = h("span", {});
    this.forCustomerLabel = h("label", { class: "small muted doc-for-customer" }, this.forCustomer, " ", this.forCustomerText);
    this.viewerTitle = h("p", { class: "small muted", dataset: { testid: "doc-viewer-title" } });
    this.viewerBody = h("div", { class: "doc-viewer-body" });
    this.viewer = h("div", { class: "doc-viewer", hidden: true, dataset: { testid: "doc-viewer" } }, this.viewerTitle, this.viewerBody);
    this.list = h("ul", { class: "doc-library", dataset: { testid: "doc-library" } });
    this.pushedList = h("ul", { class: "doc-pushed", dataset: { testid: "doc-pushed" } });
    this.element = h("section", { class: "documents card", "aria-labelledby": "documents-heading", dataset: { testid: "documents-panel" } },
      h("header", { class: "cobrowse-head" }, h("h3", { id: "documents-heading" }, t("docs.heading")),
        h("label", { class: "btn small" }, t("docs.upload"), this.file)),
      this.forCustomerLabel, this.uploadError, this.pushedList, this.viewer, this.list);
    slot.replaceChildren(this.element);
  }

  /** A reload (or a reconnect to any process): the server says which pushed documents are
   * still open on the customer's screen, at which page and zoom. */
  _reopen(documents) {
    for (const open of documents) {
      const item = this.pushed.get(open.push_id);
      const state = { page: open.page, zoom: open.zoom, pages: open.pages ?? item?.pages ?? null, seen: true };
      if (item) {
        if (!item.closed) Object.assign(item, state);
      } else {
        this.pushed.set(open.push_id, { document: open.document, visitorId: open.visitor_id, ...state, closed: null });
        this.shown ??= open.push_id;
      }
    }
    this.refresh();
  }

  async refresh() {
    try {
      const query = this.customerId ? `?customer_id=${encodeURIComponent(this.customerId)}` : "";
      const response = await fetch(`/api/documents${query}`, { credentials: "same-origin" });
      if (response.ok) this.library = (await response.json()).documents || [];
    } catch {
      /* the list stays as it was */
    }
    this.render();
  }

  async upload() {
    const file = this.file.files?.[0];
    setText(this.uploadError, "");
    if (!file) return;
    try {
      const owner = this.customerId && this.forCustomer.checked ? `&customer_id=${encodeURIComponent(this.customerId)}` : "";
      const response = await fetch(`/api/documents?name=${encodeURIComponent(file.name)}${owner}`, {
        method: "POST", credentials: "same-origin", body: file,
        headers: { "X-CSRF-Token": csrfToken(), "Content-Type": "application/octet-stream" },
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw responseError(response, body);
      this.library = [body, ...this.library.filter((doc) => doc.id !== body.id)];
      this.render();
    } catch (error) {
      setText(this.uploadError, errorText(t, error));
    } finally {
      this.file.value = "";
    }
  }

  async push(document) {
    const card = this.cobrowse.card;
    if (!card) return;
    try {
      const ack = await this.socket.send("doc_push", { callback_id: card.callback_id, document_id: document.id });
      this.pushed.set(ack.push_id, { document, visitorId: ack.visitor_id, page: 1, pages: null, zoom: 1, seen: false, closed: null });
      this.shown = ack.push_id;
      this.render();
    } catch (error) {
      this.toast(t("docs.push_failed", { error: errorText(t, error) }));
    }
  }

  /** Push the library document `id` (a suggestion's one-click push); `label` names it if
   * the library list does not have it yet. */
  async pushById(id, label = "") {
    let document = this.library.find((doc) => doc.id === id);
    if (!document) {
      await this.refresh();
      document = this.library.find((doc) => doc.id === id);
    }
    if (!document) {
      this.toast(t("docs.not_in_library", { name: label || id }));
      return;
    }
    await this.push(document);
  }

  _send(pushId, changes) {
    const item = this.pushed.get(pushId);
    if (!item || item.closed) return;
    Object.assign(item, changes);
    this.shown = pushId;
    this.socket.send("doc_page", { push_id: pushId, visitor_id: item.visitorId, page: item.page, zoom: item.zoom })
      .catch((error) => this.toast(t("docs.push_failed", { error: errorText(t, error) })));
    this.render();
  }

  turn(pushId, step) {
    const item = this.pushed.get(pushId);
    if (!item) return;
    const page = Math.max(1, Math.min(item.pages || item.page + step, item.page + step));
    if (page !== item.page) this._send(pushId, { page });
  }

  zoom(pushId, step) {
    const item = this.pushed.get(pushId);
    if (!item) return;
    const index = ZOOMS.findIndex((zoom) => zoom >= item.zoom - 1e-6);
    this._send(pushId, { zoom: ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, (index < 0 ? 2 : index) + step))] });
  }

  takeBack(pushId) {
    const item = this.pushed.get(pushId);
    if (!item || item.closed) return;
    item.closed = "agent";
    this.socket.send("doc_close", { push_id: pushId, visitor_id: item.visitorId }).catch((error) => this.toast(t("docs.push_failed", { error: errorText(t, error) })));
    this.render();
  }

  _customerPage(message) {
    const item = this.pushed.get(message.push_id);
    if (!item) return;
    if (item.closed === "agent") {
      // Taken back while the customer's next page was loading: it re-opened there; take it back again.
      if (message.resumed) this.socket.send("doc_close", { push_id: message.push_id, visitor_id: item.visitorId }).catch(() => {});
      return;
    }
    Object.assign(item, { page: message.page, zoom: message.zoom, pages: message.pages ?? item.pages, seen: true });
    this.render();
  }

  _closed(message) {
    const item = this.pushed.get(message.push_id);
    if (!item) return;
    item.closed = message.by || "customer";
    this.render();
  }

  /** The pushed document as the customer sees it: same page, same zoom. */
  async _renderViewer() {
    const item = this.pushed.get(this.shown);
    const live = item && !item.closed;
    this.viewer.hidden = !live;
    if (!live) {
      this.viewerBody.replaceChildren();
      this._viewed = null;
      return;
    }
    const key = `${this.shown}:${item.page}:${item.zoom}`;
    setText(this.viewerTitle, t(item.pages ? "docs.viewer_of" : "docs.viewer", { name: item.document.name, page: item.page, pages: item.pages }));
    if (this._viewed === key) return;
    this._viewed = key;
    const url = `/documents/${encodeURIComponent(item.document.id)}`;
    try {
      if (item.document.kind === "pdf") {
        const lib = await loadPdfjs();
        item.pdf ??= lib.getDocument({ url, withCredentials: true }).promise;
        const pdf = await item.pdf;
        const page = await pdf.getPage(Math.min(item.page, pdf.numPages));
        const base = page.getViewport({ scale: 1 });
        const fit = Math.min(1, (this.viewerBody.clientWidth || 480) / base.width);
        const ratio = window.devicePixelRatio || 1;
        const viewport = page.getViewport({ scale: fit * item.zoom * ratio });
        const canvas = h("canvas", { dataset: { testid: "doc-desk-canvas", page: String(item.page) } });
        canvas.width = Math.floor(viewport.width);
        canvas.height = Math.floor(viewport.height);
        canvas.style.width = `${Math.floor(viewport.width / ratio)}px`;
        await page.render({ canvasContext: canvas.getContext("2d"), viewport, canvas }).promise;
        if (this._viewed !== key) return; // a newer page was asked for meanwhile
        this.viewerBody.replaceChildren(canvas);
      } else {
        this.viewerBody.replaceChildren(h("img", { src: url, alt: item.document.name, dataset: { testid: "doc-desk-image" }, style: { width: `${Math.round(item.zoom * 100)}%` } }));
      }
    } catch (error) {
      this._viewed = null;
      this.viewerBody.replaceChildren(h("p", { class: "form-error" }, t("docs.not_shown", { error: errorText(t, error) })));
    }
  }

  render() {
    const card = this.cobrowse.card;
    this.element.hidden = !card && !this.pushed.size;
    const name = card?.customer?.name;
    setText(this.forCustomerText, name ? t("docs.only_for", { name }) : t("docs.only_for_this"));
    this.forCustomerLabel.hidden = !this.customerId;
    this.list.replaceChildren(...this.library.map((doc) => h("li", { dataset: { testid: `doc-${doc.id}`, name: doc.name, owner: doc.customer_id ? "customer" : "library" } },
      h("span", { class: "doc-kind", translate: "no" }, doc.kind.toUpperCase()), " ", h("span", { class: "doc-name", translate: "no" }, doc.name), " ",
      doc.customer_id ? [h("span", { class: "small muted" }, t("docs.customers_own")), " "] : null,
      h("button", { type: "button", class: "btn small", disabled: !card, dataset: { testid: "btn-doc-push" }, onclick: () => this.push(doc) }, t("docs.push")))));
    this.pushedList.replaceChildren(...[...this.pushed.entries()].map(([pushId, item]) => {
      const where = item.closed
        ? t(item.closed === "agent" ? "docs.taken_back" : "docs.closed")
        : item.seen ? t("docs.remote", { page: item.page, pages: item.pages ?? "?", zoom: ratio(item.zoom) }) : t("docs.opening");
      const live = !item.closed;
      return h("li", { dataset: { testid: "doc-pushed-item", push: pushId, shown: String(pushId === this.shown) } },
        h("button", { type: "button", class: "link", title: t("docs.show_here"), onclick: () => { this.shown = pushId; this.render(); } }, h("strong", { translate: "no" }, item.document.name)), " ",
        h("span", { class: "muted", dataset: { testid: "doc-remote-page", page: String(item.page), state: item.closed ? "closed" : "open" } }, where), " ",
        live ? [
          h("button", { type: "button", class: "btn small", "aria-label": t("docs.previous"), dataset: { testid: "btn-doc-prev" }, onclick: () => this.turn(pushId, -1) }, "‹"),
          h("button", { type: "button", class: "btn small", "aria-label": t("docs.next"), dataset: { testid: "btn-doc-next" }, onclick: () => this.turn(pushId, 1) }, "›"),
          h("button", { type: "button", class: "btn small", "aria-label": t("docs.zoom_out"), dataset: { testid: "btn-doc-zoom-out" }, onclick: () => this.zoom(pushId, -1) }, "−"),
          h("button", { type: "button", class: "btn small", "aria-label": t("docs.zoom_in"), dataset: { testid: "btn-doc-zoom-in" }, onclick: () => this.zoom(pushId, 1) }, "+"),
          h("button", { type: "button", class: "btn small", dataset: { testid: "btn-doc-take-back" }, onclick: () => this.takeBack(pushId) }, t("docs.take_back")),
        ] : null);
    }));
    if (this.pushed.get(this.shown)?.closed) {
      // Taken back or closed: show the last one still open, if any.
      this.shown = [...this.pushed.entries()].filter(([, item]) => !item.closed).map(([pushId]) => pushId).at(-1) ?? this.shown;
    }
    this._renderViewer();
  }
}
