// Co-browse on the customer's page (docs/protocol.md, "Co-browse").
//
// Loaded by widget.js only when an agent asks to see the page, or when a share
// in progress continues on a new page (sessionStorage "otodesk.cobrowse"). The
// rrweb recorder itself (/static/vendor/rrweb/record.min.js, 77 KB) is fetched
// only after the customer said yes.
//
// - the prompt: who asks, what they will and won't see, Share / No thanks;
// - while shared, a banner "<agent> can see this page" with "What is hidden"
//   and "Stop sharing" (stops the recorder at once, before telling the server);
// - rrweb events are masked here (privacy.js), batched every 100 ms and sent on
//   the widget's socket; a batch over one message's limit (a full snapshot) is
//   deflated (CompressionStream), sent in base64 pieces at the pace the server
//   gave (under the hub's per-socket rate), yielding to the page between pieces,
//   and sent again if it did not arrive whole (its last piece is a command);
// - the agent's pointer is drawn as a labelled cursor on the element it points at.
import { h, setText } from "../common/dom.js";
import { BLOCK_SELECTOR, MASK_SELECTOR, UNMASK_SELECTOR, maskEventUrls, maskInput, maskText, validSelector } from "./privacy.js";
import { scan as scanUnmirrored } from "./unmirrored.js";
import { findHidden } from "./hidden.js";
import { Control } from "./control.js";

const TOKEN_KEY = "otodesk.cobrowse";
const BATCH_MS = 100;
const MAX_MESSAGE = 60000; // characters; the hub refuses frames over 64 KiB
const POINTER_HIDE_MS = 4000;
// Until the server's ack says (`pace`, from the hub's own limits): pieces a second, the
// burst, characters of a piece (JSON pieces: escaping at most doubles them), pieces a batch.
const PACE = { per_second: 14, burst: 30, piece: 24000, max_pieces: 512 };
const ATTEMPTS = 3; // a snapshot that did not arrive whole is sent again, then given up

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A token bucket: `await take()` before each piece; it also yields to the page every time. */
class Pacer {
  constructor({ per_second, burst }) {
    this.rate = per_second;
    this.burst = burst;
    this.tokens = burst;
    this.at = performance.now();
  }

  async take() {
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
      this.at = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return pause(0);
      }
      await pause(((1 - this.tokens) / this.rate) * 1000);
    }
  }
}

/** The batch's JSON text as sent: base64 of its deflated bytes, or the text where the browser can't compress. */
async function pack(text) {
  if (typeof CompressionStream !== "function") return { data: text, encoding: "json" };
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("deflate"));
  const blob = await new Response(stream).blob();
  const url = await new Promise((resolve, reject) => {
    const reader = new FileReader(); // base64 off the page's main work, unlike btoa over megabytes
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
  return { data: url.slice(url.indexOf(",") + 1), encoding: "deflate" };
}

/** `text` in pieces of at most `size` characters, never splitting a surrogate pair. */
function split(text, size) {
  const pieces = [];
  for (let at = 0; at < text.length;) {
    let end = Math.min(text.length, at + size);
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end -= 1;
    pieces.push(text.slice(at, end));
    at = end;
  }
  return pieces;
}

function stored() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
  } catch {
    return null;
  }
}

function store(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value));
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* without storage a share ends with the page */
  }
}

let recorderScript = null;
function loadRecorder(base) {
  if (globalThis.rrwebRecord) return Promise.resolve(globalThis.rrwebRecord);
  recorderScript ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = `${base}/static/vendor/rrweb/record.min.js`;
    script.crossOrigin = "anonymous";
    script.onload = () => (globalThis.rrwebRecord ? resolve(globalThis.rrwebRecord) : reject(new Error("rrweb missing")));
    script.onerror = () => {
      recorderScript = null;
      reject(new Error("the co-browse recorder could not be loaded"));
    };
    document.head.append(script);
  });
  return recorderScript;
}

const css = `
:host { all: initial; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1f2433; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.prompt { position: fixed; z-index: 2147483600; left: 50%; top: 24px; transform: translateX(-50%);
  width: min(440px, calc(100vw - 24px)); background: #fff; border-radius: 12px; padding: 18px 20px;
  box-shadow: 0 12px 40px rgba(20, 20, 60, .35); border: 1px solid #d9dce6; }
.prompt h2 { font-size: 17px; margin: 0 0 6px; }
.prompt p, .prompt li { margin: 0 0 6px; color: #3b4152; }
.prompt ul { margin: 0 0 12px; padding-left: 18px; }
.actions { display: flex; gap: 8px; justify-content: flex-end; }
button { font: inherit; border-radius: 8px; padding: 8px 14px; cursor: pointer; border: 1px solid #c7cbd9; background: #fff; color: #1f2433; }
button.primary { background: #4338ca; border-color: #4338ca; color: #fff; font-weight: 600; }
button.stop { background: #b91c1c; border-color: #b91c1c; color: #fff; font-weight: 600; }
button:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.banner { position: fixed; z-index: 2147483500; left: 50%; top: 0; transform: translateX(-50%);
  display: flex; align-items: center; gap: 10px; padding: 6px 8px 6px 14px; background: #111827; color: #fff;
  border-radius: 0 0 10px 10px; box-shadow: 0 4px 14px rgba(0,0,0,.3); max-width: calc(100vw - 16px); }
.banner .dot { width: 9px; height: 9px; border-radius: 50%; background: #ef4444; box-shadow: 0 0 0 3px rgba(239,68,68,.3); }
.banner button { padding: 4px 10px; font-size: 13px; }
.banner button.link { background: transparent; color: #c7d2fe; border-color: transparent; text-decoration: underline; }
.banner button { white-space: nowrap; flex: none; }
.banner [data-testid=otodesk-cobrowse-who] { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-width: 0; }
/* A phone: a full-width bar at the top, who on one line, the buttons under it (documents.js keeps below it). */
@media (max-width: 480px) {
  .banner { left: 0; right: 0; transform: none; max-width: none; border-radius: 0; flex-wrap: wrap; gap: 4px 8px;
    padding: 5px 10px; justify-content: flex-end; max-height: 68px; }
  .banner [data-testid=otodesk-cobrowse-who] { flex: 1 1 calc(100% - 24px); }
}
.hidden-view { position: fixed; z-index: 2147483500; left: 50%; top: 44px; transform: translateX(-50%);
  width: min(420px, calc(100vw - 24px)); background: #fff; border: 1px solid #d9dce6; border-radius: 10px; padding: 12px 16px;
  box-shadow: 0 8px 28px rgba(20,20,60,.25); }
.hidden-view ul { margin: 6px 0 0; padding-left: 18px; }
.box { position: fixed; z-index: 2147483400; border: 2px dashed #b91c1c; background: rgba(185,28,28,.08); pointer-events: none; border-radius: 4px; }
.cursor { position: fixed; z-index: 2147483550; left: 0; top: 0; pointer-events: none; transition: transform .08s linear; }
.cursor svg { display: block; filter: drop-shadow(0 1px 2px rgba(0,0,0,.4)); }
.cursor .label { position: absolute; left: 16px; top: 16px; background: #4338ca; color: #fff; font-size: 12px; font-weight: 600;
  padding: 2px 8px; border-radius: 999px; white-space: nowrap; }
.ring { position: fixed; z-index: 2147483540; pointer-events: none; border: 3px solid #f59e0b; border-radius: 8px;
  box-shadow: 0 0 0 6px rgba(245,158,11,.25); animation: otodesk-ring 1.6s ease-out forwards; }
@keyframes otodesk-ring { 0% { opacity: 0; transform: scale(1.15); } 15% { opacity: 1; transform: scale(1); } 70% { opacity: 1; } 100% { opacity: 0; } }
.note { position: fixed; z-index: 2147483500; left: 50%; top: 8px; transform: translateX(-50%); background: #111827; color: #fff;
  padding: 6px 14px; border-radius: 8px; }
`;

class Cobrowse {
  constructor(socket, base, language) {
    this.socket = socket;
    this.base = base;
    this.language = language; // language.js: the customer's words
    this.request = null; // the pending cobrowse_request
    this.share = stored(); // {token, agent} while sharing
    this.stopRecording = null;
    this.buffer = [];
    this.timer = null;
    this.batchCounter = 0;
    this.viewers = new Set();
    this.options = window.otodesk?.cobrowseOptions || {};
    this._build();
    this.control = new Control(this); // "go to this page" and remote control
    socket.on("cobrowse_ended", (message) => this._ended(message));
    socket.on("cobrowse_snapshot", () => this._snapshot());
    socket.on("cobrowse_pointer", (message) => this._pointer(message));
    socket.on("cobrowse_viewer", (message) => this._viewer(message));
    const resume = () => this._resume();
    socket.on("welcome", resume);
    socket.on("resumed", resume);
    if (socket.ready) resume();
    window.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.prompt.hidden) this._answer(false);
    });
  }

  // -- the shadow-DOM UI ----------------------------------------------------

  _build() {
    this.host = document.createElement("otodesk-cobrowse");
    this.host.setAttribute("data-otodesk", ""); // never recorded
    this.root = this.host.attachShadow({ mode: "open" });
    const { t } = this.language;
    const style = document.createElement("style");
    style.textContent = css;

    this.promptTitle = h("h2", { id: "otodesk-cb-title" });
    this.prompt = h("div", {
      class: "prompt", role: "alertdialog", "aria-labelledby": "otodesk-cb-title", hidden: true,
      dataset: { testid: "otodesk-cobrowse-prompt" },
    },
    this.promptTitle,
    h("ul", {},
      h("li", {}, t("cobrowse.will_see")),
      h("li", {}, t("cobrowse.will_not_see")),
      h("li", {}, t("cobrowse.can_point"))),
    h("div", { class: "actions" },
      h("button", { type: "button", dataset: { testid: "otodesk-cobrowse-refuse" }, onclick: () => this._answer(false) }, t("cobrowse.refuse")),
      h("button", { type: "button", class: "primary", dataset: { testid: "otodesk-cobrowse-accept" }, onclick: () => this._answer(true) }, t("cobrowse.accept"))));

    this.bannerText = h("span", { dataset: { testid: "otodesk-cobrowse-who" } });
    this.banner = h("div", { class: "banner", role: "status", hidden: true, dataset: { testid: "otodesk-cobrowse-banner" } },
      h("span", { class: "dot", "aria-hidden": "true" }), this.bannerText,
      h("button", { type: "button", class: "link", dataset: { testid: "otodesk-cobrowse-hidden-toggle" }, onclick: () => this._toggleHidden() }, t("cobrowse.what_is_hidden")),
      h("button", { type: "button", class: "stop", dataset: { testid: "otodesk-cobrowse-stop" }, onclick: () => this.stop() }, t("cobrowse.stop")));

    this.hiddenList = h("ul", {});
    this.hiddenView = h("div", { class: "hidden-view", hidden: true, dataset: { testid: "otodesk-cobrowse-hidden" } },
      h("strong", {}, t("cobrowse.hidden_title")), this.hiddenList);
    this.boxes = h("div", {});

    this.cursorLabel = h("span", { class: "label" });
    this.cursor = h("div", { class: "cursor", hidden: true, dataset: { testid: "otodesk-agent-cursor" } });
    this.cursor.innerHTML = '<svg width="18" height="22" viewBox="0 0 18 22" aria-hidden="true"><path d="M1 1l15 11-7 1.5L5.5 21z" fill="#4338ca" stroke="#fff" stroke-width="1.5"/></svg>';
    this.cursor.append(this.cursorLabel);

    this.note = h("div", { class: "note", role: "status", hidden: true, dataset: { testid: "otodesk-cobrowse-note" } });
    this.ring = h("div", { class: "ring", hidden: true, dataset: { testid: "otodesk-agent-highlight" } });
    this.root.append(style, this.prompt, this.banner, this.hiddenView, this.boxes, this.ring, this.cursor, this.note);
    document.body.append(this.host);
  }

  _showNote(text) {
    setText(this.note, text);
    this.note.hidden = false;
    clearTimeout(this._noteTimer);
    this._noteTimer = setTimeout(() => (this.note.hidden = true), 4000);
  }

  _renderBanner() {
    const sharing = !!this.share;
    this.banner.hidden = !sharing;
    if (!sharing) {
      this.hiddenView.hidden = true;
      this.boxes.replaceChildren();
      this.cursor.hidden = true;
      return;
    }
    const viewers = [...this.viewers].filter((name) => name !== this.share.agent);
    const names = [this.share.agent || this.language.t("agent.the"), ...viewers];
    setText(this.bannerText, this.language.t("cobrowse.can_see", { names: this.language.list(names) }));
  }

  _toggleHidden() {
    this.hiddenView.hidden = !this.hiddenView.hidden;
    this.boxes.replaceChildren();
    if (this.hiddenView.hidden) return;
    // The same selectors the recorder uses, the site's own included (cobrowseOptions.block / .mask),
    // looked for where the recorder looks: open shadow roots and same-origin frames too.
    const { block, mask, unmask } = this._selectors();
    const { fields, unmasked, areas } = findHidden({
      block, hiding: `${block}, ${mask}`,
      isUnmasked: (field) => maskInput("x", field, { unmask }) === "x",
    }, { block: BLOCK_SELECTOR, hiding: `${BLOCK_SELECTOR}, ${MASK_SELECTOR}` });
    const { t } = this.language;
    const within = (where, key) => {
      const count = areas.filter((area) => area.where === where).length;
      return count ? t(key, { count }) : null;
    };
    const inside = [within("component", "cobrowse.inside_component"), within("frame", "cobrowse.inside_frame")].filter(Boolean);
    const marked = t("cobrowse.hidden_areas", { count: areas.length });
    this.hiddenList.replaceChildren(
      h("li", {}, t("cobrowse.hidden_fields", { count: fields.length })),
      h("li", {}, t("cobrowse.hidden_always")),
      areas.length ? h("li", { dataset: { testid: "otodesk-cobrowse-hidden-areas" } },
        inside.length ? t("cobrowse.hidden_areas_inside", { areas: marked, inside: this.language.list(inside) }) : marked) : null,
      unmasked.length ? h("li", { class: "shown" }, t("cobrowse.shown_fields", { count: unmasked.length })) : null);
    for (const { box, where } of [...fields, ...areas]) {
      if (!box) continue;
      this.boxes.append(h("div", { class: "box", dataset: { where },
        style: { left: `${box.left - 3}px`, top: `${box.top - 3}px`, width: `${box.width + 6}px`, height: `${box.height + 6}px` } }));
    }
  }

  // -- consent ----------------------------------------------------------------

  /** A message from the hub that made widget.js load this module. */
  receive(message) {
    if (message.type !== "cobrowse_request") return;
    if (this.share) return; // already sharing: the server told the agent so
    this.request = message;
    setText(this.promptTitle, message.agent_name ? this.language.t("cobrowse.asks", { agent: message.agent_name })
      : this.language.t("cobrowse.asks_anonymous"));
    this.prompt.hidden = false;
    this.prompt.querySelector(".primary").focus({ preventScroll: true });
  }

  async _answer(accept) {
    const request = this.request;
    this.prompt.hidden = true;
    this.request = null;
    if (!request) return;
    try {
      const ack = await this.socket.send("cobrowse_answer", { request_id: request.request_id, accept });
      if (!accept) return;
      this.share = { token: ack.token, agent: ack.agent_name || request.agent_name || "", urls: ack.url_privacy, pace: ack.pace };
      store(this.share);
      this._renderBanner();
      await this._record();
    } catch (error) {
      console.warn("otodesk: co-browse answer failed", error);
      this._showNote(this.language.t("cobrowse.expired"));
    }
  }

  async _resume() {
    if (!this.share || this._resuming) return;
    this._resuming = true;
    try {
      // A new page, or the same page after a dropped socket: the server's side of the
      // share lives with the socket, so every new connection resumes it.
      const ack = await this.socket.send("cobrowse_resume", { token: this.share.token });
      if (!this.share) return; // stopped meanwhile
      this.share.agent = ack.agent_name || this.share.agent;
      this.share.urls = ack.url_privacy || this.share.urls;
      this.share.pace = ack.pace || this.share.pace;
      this._renderBanner();
      if (this.stopRecording) this._snapshot(); // still recording: the viewers resync from here
      else await this._record();
    } catch (error) {
      if (error?.code === "unauthorized" || error?.code === "invalid_state") this._end();
    } finally {
      this._resuming = false;
    }
  }

  /** The customer's "Stop sharing": the recorder stops first, then the server is told. */
  stop() {
    const wasSharing = !!this.share;
    this._end();
    if (wasSharing) this.socket.send("cobrowse_stop", {}).catch(() => {});
    this._showNote(this.language.t("cobrowse.stopped"));
  }

  _ended(message) {
    const name = message.name || this.language.t("agent.the");
    const shown = !!this.share || !this.prompt.hidden;
    this.prompt.hidden = true; // a question from a call that is over has no answer
    this.request = null;
    this._end();
    if (message.by === "contact") {
      if (shown) this._showNote(this.language.t("cobrowse.call_ended", { agent: name }));
    } else this._showNote(this.language.t("cobrowse.viewer_left", { agent: name }));
  }

  _end() {
    this.stopRecording?.();
    this.stopRecording = null;
    clearTimeout(this.timer);
    this.timer = null;
    this.buffer = [];
    this.share = null;
    this.viewers.clear();
    this.control?.end();
    store(null);
    this._renderBanner();
  }

  _viewer(message) {
    if (message.name) {
      this.viewers.add(message.role === "agent" ? message.name
        : this.language.t(message.role === "supervisor" ? "cobrowse.viewer_supervisor" : "cobrowse.viewer_other", { name: message.name, role: message.role }));
    }
    this._renderBanner();
  }

  // -- recording ----------------------------------------------------------------

  /** What the recorder blocks, masks and unmasks: the defaults and the site's own selectors. */
  _selectors() {
    const join = (...parts) => parts.filter(Boolean).join(", ");
    return {
      block: join(BLOCK_SELECTOR, this.options.block),
      // A site selector that isn't valid CSS is dropped, not allowed to switch masking off.
      mask: validSelector(join(MASK_SELECTOR, this.options.mask), MASK_SELECTOR),
      unmask: join(UNMASK_SELECTOR, this.options.unmask),
    };
  }

  async _record() {
    if (this.stopRecording || !this.share) return;
    const rrweb = await loadRecorder(this.base);
    if (this.stopRecording || !this.share) return;
    const { block, mask, unmask } = this._selectors();
    this.recorder = rrweb.record;
    const stop = rrweb.record({
      emit: (event) => this._emit(event),
      maskAllInputs: true,
      maskInputFn: (text, element) => maskInput(text, element, { unmask }),
      maskTextSelector: "*",
      maskTextFn: (text, element) => maskText(text, element, { mask }),
      blockSelector: block,
      recordCanvas: false,
      collectFonts: false,
      inlineImages: false,
      recordCrossOriginIframes: false,
      sampling: { mousemove: 50, mousemoveCallback: 100, scroll: 100 },
      slimDOMOptions: { script: true, comment: true, headFavicon: true, headWhitespace: true, headMetaSocial: true, headMetaRobots: true, headMetaHttpEquiv: true, headMetaVerification: true },
    });
    // A frame that finished loading may now be cross-origin: look again. An
    // `<iframe srcdoc>` added while sharing is recorded, but the agent's live
    // replay loses it (its copy loads the srcdoc over the mirrored content); a
    // new full snapshot shows it, as one does for the srcdoc frames already there.
    const onLoad = (event) => {
      if (event.target?.localName !== "iframe") return;
      this._reportUnmirrored();
      if (!event.target.hasAttribute("srcdoc")) return;
      clearTimeout(this._srcdocTimer);
      this._srcdocTimer = setTimeout(() => this._snapshot(), 300);
    };
    document.addEventListener("load", onLoad, true);
    this.stopRecording = () => {
      document.removeEventListener("load", onLoad, true);
      clearTimeout(this._unmirroredTimer);
      clearTimeout(this._srcdocTimer);
      try {
        stop?.();
      } catch {
        /* already stopped */
      }
    };
  }

  _emit(event) {
    if (!this.share) return;
    this.buffer.push(event);
    // A full snapshot goes at once, but in a task of its own: rrweb's snapshot is already
    // one long task of the page's, serialising it need not lengthen it.
    const wait = event.type === 2 ? 0 : BATCH_MS;
    if (!this.timer || wait === 0) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this._flush(), wait);
    }
    if (event.type === 2) this._reportUnmirrored({ always: true }); // new node ids, maybe a new viewer
    else if (event.type === 3 && event.data?.source === 0) this._reportUnmirrored();
  }

  /** Tell the agent what this page has that the mirror can't show (after the events before it). */
  _reportUnmirrored({ always = false } = {}) {
    this._unmirroredAlways ||= always;
    clearTimeout(this._unmirroredTimer);
    this._unmirroredTimer = setTimeout(() => {
      if (!this.share || !this.stopRecording) return;
      const skip = ["[data-otodesk]", BLOCK_SELECTOR, this.options.block].filter(Boolean).join(", ");
      const found = scanUnmirrored(this.recorder?.mirror, skip);
      const text = JSON.stringify(found);
      if (text === this._unmirrored && !this._unmirroredAlways) return;
      this._unmirrored = text;
      this._unmirroredAlways = false;
      this._flush();
      const send = () => this.share && this.socket.notify("cobrowse_unmirrored", found);
      if (this.sending) this.sending.then(send); // after the snapshot whose node ids it names
      else send();
    }, always ? 0 : 300);
  }

  _flush() {
    clearTimeout(this.timer);
    this.timer = null;
    // A batch in pieces is on its way: what follows waits for it (the order of events, and
    // the hub's message rate, which the pieces already use).
    if (this.sending) return;
    const events = this.buffer;
    this.buffer = [];
    if (!events.length || !this.share) return;
    // The page's address (and links to it) as the agent may see it: no search terms or tokens.
    for (const event of events) maskEventUrls(event, this.share.urls);
    const text = JSON.stringify(events);
    if (text.length + 40 <= MAX_MESSAGE) {
      this.socket.notify("cobrowse_events", { events });
      return;
    }
    this.sending = this._sendInPieces(text).finally(() => {
      this.sending = null;
      if (this.buffer.length) this._flush();
    });
  }

  async _sendInPieces(text) {
    const share = this.share;
    const pace = { ...PACE, ...share.pace };
    this.pacer ??= new Pacer(pace); // one for the socket: bursts don't add up batch after batch
    const { data, encoding } = await pack(text).catch(() => ({ data: text, encoding: "json" }));
    const size = encoding === "json" ? Math.min(pace.piece, PACE.piece) : pace.piece;
    const pieces = split(data, size);
    if (pieces.length > pace.max_pieces) {
      console.warn(`otodesk: this page is too big to show the agent (${pieces.length} pieces)`);
      return;
    }
    for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
      this.batchCounter += 1;
      const batch = `b${Date.now().toString(36)}${this.batchCounter}`;
      try {
        for (let index = 0; index < pieces.length; index += 1) {
          await this.pacer.take(); // yields to the page between pieces
          if (this.share !== share) return; // stopped, or another share
          const piece = { batch, index, total: pieces.length, data: pieces[index], encoding };
          if (index < pieces.length - 1) this.socket.notify("cobrowse_chunk", piece);
          else await this.socket.send("cobrowse_chunk", piece); // its ack: the whole batch arrived
        }
        return;
      } catch (error) {
        if (this.share !== share || error?.code === "too_large" || error?.code === "invalid_state") return;
        console.warn(`otodesk: a co-browse snapshot did not arrive whole (${error?.message}); sending it again`);
        await pause(1000 * attempt);
      }
    }
  }

  _snapshot() {
    if (this.stopRecording && this.recorder?.takeFullSnapshot) this.recorder.takeFullSnapshot(true);
  }

  // -- the agent's pointer --------------------------------------------------------

  /** The agent clicked: ring the element for a moment (drawn only, nothing is clicked). */
  _highlight(rect) {
    const pad = 4;
    Object.assign(this.ring.style, { left: `${rect.left - pad}px`, top: `${rect.top - pad}px`, width: `${rect.width + pad * 2}px`, height: `${rect.height + pad * 2}px` });
    this.ring.hidden = true;
    void this.ring.offsetWidth; // restart the animation
    this.ring.hidden = false;
    clearTimeout(this._ringTimer);
    this._ringTimer = setTimeout(() => (this.ring.hidden = true), 1600);
  }

  _pointer(message) {
    if (!this.share) return;
    let x = Number(message.x) || 0;
    let y = Number(message.y) || 0;
    const node = message.node != null ? this.recorder?.mirror?.getNode(message.node) : null;
    const element = node && (node.nodeType === 1 ? node : node.parentElement);
    if (element && element.isConnected && !element.closest("[data-otodesk]")) {
      const rect = element.getBoundingClientRect();
      x = rect.left + rect.width * (Number(message.fx) || 0);
      y = rect.top + rect.height * (Number(message.fy) || 0);
      this.cursor.dataset.node = String(message.node);
      if (message.highlight) this._highlight(rect);
    } else {
      x -= window.scrollX;
      y -= window.scrollY;
      delete this.cursor.dataset.node;
    }
    setText(this.cursorLabel, message.name || this.language.t("agent.label"));
    this.cursor.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
    this.cursor.hidden = false;
    clearTimeout(this._cursorTimer);
    this._cursorTimer = setTimeout(() => (this.cursor.hidden = true), POINTER_HIDE_MS);
  }
}

let instance = null;

/** Called by widget.js (once); returns the co-browse controller. */
export function start(socket, { base, language }) {
  instance ??= new Cobrowse(socket, base, language);
  return instance;
}

/** Whether this page continues a share (widget.js loads this module at once then). */
export const SHARE_KEY = TOKEN_KEY;
