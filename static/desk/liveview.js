// A live mirror of a customer's page: rrweb's Replayer in live mode, inside
// its sandboxed iframe (no script of the customer's page ever runs here).
// Fed with the customer's rrweb events as they arrive; starts at the first
// Meta event (a full snapshot follows it). Timing uses only the customer's
// clock (the events' timestamps), never ours, so clock skew can't delay
// anything: the live baseline is set a day after the first event, which makes
// rrweb apply every event at once, in arrival order (`timestamp < baseline` is
// its synchronous path). With the usual `startLive(first.timestamp - 500)` each
// event waited for the replayer's own timer: half a second plus however long
// the replayer took to load, about 1.5 s in all here. A new Meta (a page load,
// or a snapshot asked for a late joiner) starts a fresh Replayer, so the
// events it keeps never outgrow one page. Scaled to fit its box.
//
// Pointer: moving the mouse over the mirror reports the rrweb node under it
// and the offset inside that node (0..1), so the customer's page can anchor the
// agent's cursor to the same element whatever its scroll or window size.

let replayScript = null;
function loadReplayer() {
  if (globalThis.rrwebReplay) return Promise.resolve(globalThis.rrwebReplay);
  replayScript ??= new Promise((resolve, reject) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/vendor/rrweb/replay.min.css";
    document.head.append(link);
    const script = document.createElement("script");
    script.src = "/static/vendor/rrweb/replay.min.js";
    script.onload = () => resolve(globalThis.rrwebReplay);
    script.onerror = () => {
      replayScript = null;
      reject(new Error("the co-browse replayer could not be loaded"));
    };
    document.head.append(script);
  });
  return replayScript;
}

const POINTER_EVERY_MS = 80;
const LIVE_AHEAD_MS = 24 * 3600 * 1000;

export class LiveView {
  /**
   * @param {HTMLElement} container  the box the mirror fills (its width sets the scale)
   * @param {object} [options]
   * @param {(pointer: {node, fx, fy, x, y}) => void} [options.onPointer]
   */
  constructor(container, { onPointer = null } = {}) {
    this.container = container;
    this.onPointer = onPointer;
    this.replayer = null;
    this.queue = [];
    this.loading = null;
    this.scale = 1;
    this.size = { width: 1024, height: 768 };
    this.lastPointer = 0;
    this.stage = document.createElement("div");
    this.stage.className = "cobrowse-stage";
    this.glass = document.createElement("div");
    this.glass.className = "cobrowse-glass";
    this.glass.addEventListener("mousemove", (event) => this._move(event));
    this.glass.addEventListener("click", (event) => this._move(event, { highlight: true }));
    container.replaceChildren(this.stage, this.glass);
    this._resizeObserver = new ResizeObserver(() => this._fit());
    this._resizeObserver.observe(container);
    /** Timestamp (customer's clock, ms) of the last event applied; for latency figures. */
    this.lastEventAt = 0;
    this.events = 0;
  }

  /** Add rrweb events in the order they were recorded. */
  add(events) {
    for (const event of events) {
      if (!this.seenMeta && event.type !== 4) continue; // wait for a Meta + full snapshot
      this.seenMeta = true;
      this.queue.push(event);
    }
    if (!this.queue.length) return;
    if (this.replayer) this._drain();
    else if (!this.loading) {
      this.loading = loadReplayer().then((rrweb) => this._start(rrweb)).catch((error) => {
        this.loading = null;
        this.container.dataset.error = error.message;
      });
    }
  }

  _start(rrweb) {
    if (this.destroyed) return;
    this.rrweb = rrweb;
    this.replayer = this._replayer(this.queue[0]);
    this._drain();
  }

  _replayer(first) {
    const replayer = new this.rrweb.Replayer([], {
      root: this.stage,
      liveMode: true,
      mouseTail: false,
      showWarning: false,
      triggerFocus: false,
      UNSAFE_replayCanvas: false,
      insertStyleRules: [],
      // Synchronous events would otherwise go to a virtual DOM flushed only when playback resumes.
      useVirtualDom: false,
    });
    replayer.on("resize", (size) => {
      this.size = { width: size.width, height: size.height };
      this._fit();
    });
    replayer.startLive(first.timestamp + LIVE_AHEAD_MS);
    this.applied = 0;
    return replayer;
  }

  _drain() {
    const events = this.queue;
    this.queue = [];
    for (const event of events) {
      if (event.type === 4 && this.applied > 0) {
        try {
          this.replayer.destroy();
        } catch {
          /* already gone */
        }
        this.replayer = this._replayer(event);
      }
      this.applied += 1;
      if (event.type === 4 && event.data) {
        this.size = { width: event.data.width || this.size.width, height: event.data.height || this.size.height };
        this._fit();
      }
      this.replayer.addEvent(event);
      this.lastEventAt = event.timestamp;
      this.events += 1;
    }
    this.container.dataset.events = String(this.events);
  }

  _fit() {
    const width = this.container.clientWidth || this.size.width;
    this.scale = Math.min(1, width / this.size.width);
    this.stage.style.width = `${this.size.width}px`;
    this.stage.style.height = `${this.size.height}px`;
    this.stage.style.transform = `scale(${this.scale})`;
    this.container.style.height = `${Math.round(this.size.height * this.scale)}px`;
  }

  /** The replayed document (for tests and the pointer). */
  get document() {
    return this.replayer?.iframe?.contentDocument || null;
  }

  _move(event, { highlight = false } = {}) {
    if (!this.onPointer || !this.replayer) return;
    const now = performance.now();
    if (!highlight && now - this.lastPointer < POINTER_EVERY_MS) return;
    this.lastPointer = now;
    const iframe = this.replayer.iframe;
    const doc = this.document;
    if (!iframe || !doc) return;
    const frame = iframe.getBoundingClientRect();
    const x = (event.clientX - frame.left) / this.scale;
    const y = (event.clientY - frame.top) / this.scale;
    const element = doc.elementFromPoint(x, y);
    let node = null;
    let fx = 0.5;
    let fy = 0.5;
    if (element) {
      const id = this.replayer.getMirror().getId(element);
      if (id > 0) {
        node = id;
        const rect = element.getBoundingClientRect();
        fx = rect.width ? Math.min(1, Math.max(0, (x - rect.left) / rect.width)) : 0.5;
        fy = rect.height ? Math.min(1, Math.max(0, (y - rect.top) / rect.height)) : 0.5;
      }
    }
    const view = doc.defaultView;
    this.onPointer({ node, fx, fy, x: x + (view?.scrollX || 0), y: y + (view?.scrollY || 0), highlight });
  }

  destroy() {
    this.destroyed = true;
    this._resizeObserver.disconnect();
    try {
      this.replayer?.destroy();
    } catch {
      /* already gone */
    }
    this.replayer = null;
    this.container.replaceChildren();
    this.container.style.height = "";
  }
}
