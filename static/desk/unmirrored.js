// Telling the agent what the customer's page has that the mirror can't show
// (cross-origin frames, canvas drawings, videos: see static/widget/unmirrored.js),
// as a sentence and as striped placeholders over those areas of the mirror.
import { h } from "../common/dom.js";
import { t } from "./i18n.js";

/** "This page has 1 cross-origin frame and 1 canvas that you can't see." or "" */
export function describe(message) {
  const parts = [];
  if (message?.frames) parts.push(t("unmirrored.frames", { count: message.frames }));
  if (message?.canvases) parts.push(t("unmirrored.canvases", { count: message.canvases }));
  if (message?.videos) parts.push(t("unmirrored.videos", { count: message.videos }));
  if (!parts.length) return "";
  const joined = parts.length > 1 ? t("unmirrored.and", { rest: parts.slice(0, -1).join(t("unmirrored.comma")), last: parts.at(-1) }) : parts[0];
  return t("unmirrored.sentence", { list: joined });
}

const LABELS = { frame: "unmirrored.frame", canvas: "unmirrored.canvas", video: "unmirrored.video" };
const REDRAW_MS = 250;

/** Striped boxes over a LiveView's mirror, where the unmirrored elements are. */
export class Placeholders {
  constructor(view) {
    this.view = view;
    this.areas = [];
    this.marks = new Map(); // "kind:node" -> its box
    this.layer = h("div", { class: "cobrowse-unmirrored-layer", "aria-hidden": "true" });
    // Redrawn on a timer: the customer scrolls, the page moves, a new page replaces the nodes.
    this.timer = setInterval(() => this.draw(), REDRAW_MS);
  }

  set(areas) {
    this.areas = areas || [];
    this.draw();
  }

  draw() {
    const view = this.view;
    const replayer = view.replayer;
    const iframe = replayer?.iframe;
    if (!iframe || view.destroyed) {
      this.layer.replaceChildren();
      return;
    }
    if (this.layer.parentNode !== view.stage) view.stage.append(this.layer);
    const mirror = replayer.getMirror();
    const scale = view.scale || 1;
    const stageBox = view.stage.getBoundingClientRect();
    const frameBox = iframe.getBoundingClientRect();
    // The layer covers the replay's viewport exactly: areas scrolled out of the customer's view are clipped.
    Object.assign(this.layer.style, {
      left: `${(frameBox.left - stageBox.left) / scale}px`, top: `${(frameBox.top - stageBox.top) / scale}px`,
      width: `${iframe.offsetWidth}px`, height: `${iframe.offsetHeight}px`,
    });
    const marks = [];
    for (const area of this.areas) {
      const node = mirror.getNode(area.node);
      if (!node || node.nodeType !== 1 || !node.isConnected) continue;
      if (area.width && area.height && node.dataset.otodeskSized !== `${area.width}x${area.height}`) {
        // Without scripts (the sandbox) a canvas renders its empty fallback: give it back its box.
        node.dataset.otodeskSized = `${area.width}x${area.height}`;
        node.style.setProperty("display", "inline-block", "important");
        node.style.setProperty("box-sizing", "border-box", "important");
        node.style.setProperty("width", `${area.width}px`, "important");
        node.style.setProperty("height", `${area.height}px`, "important");
      }
      const rect = node.getBoundingClientRect();
      if (!rect.width || !rect.height) continue;
      // The same box moves with the page (redrawn in place, not replaced).
      const key = `${area.kind}:${area.node}`;
      let mark = this.marks.get(key);
      if (!mark) {
        mark = h("div", { class: "cobrowse-unmirrored-mark", dataset: { testid: "cobrowse-unmirrored-area", kind: area.kind } },
          h("span", {}, t(LABELS[area.kind] || "unmirrored.other")));
        this.marks.set(key, mark);
      }
      Object.assign(mark.style, { left: `${rect.left}px`, top: `${rect.top}px`, width: `${rect.width}px`, height: `${rect.height}px` });
      marks.push(mark);
    }
    for (const [key, mark] of this.marks) if (!marks.includes(mark)) this.marks.delete(key);
    this.layer.replaceChildren(...marks);
  }

  destroy() {
    clearInterval(this.timer);
    this.layer.remove();
  }
}
