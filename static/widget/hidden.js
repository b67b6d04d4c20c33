// What the customer's "What is hidden" view outlines: the places the recorder
// hides, found the way the recorder walks the page. rrweb records open shadow
// roots and same-origin frames with the same block and mask rules, so the view
// looks inside them too; a blocked area is not recorded at all, so nothing
// inside it (the widget's own UI included) is looked at.

import { validSelector } from "./privacy.js";

/** The viewport box of a frame's content, in the top page's coordinates. */
function contentBox(frame, outer) {
  const rect = frame.getBoundingClientRect();
  const style = frame.ownerDocument.defaultView.getComputedStyle(frame);
  const left = outer.left + rect.left + frame.clientLeft + parseFloat(style.paddingLeft || 0);
  const top = outer.top + rect.top + frame.clientTop + parseFloat(style.paddingTop || 0);
  const width = frame.clientWidth - parseFloat(style.paddingLeft || 0) - parseFloat(style.paddingRight || 0);
  const height = frame.clientHeight - parseFloat(style.paddingTop || 0) - parseFloat(style.paddingBottom || 0);
  return { left, top, right: left + width, bottom: top + height };
}

function readableDocument(frame) {
  try {
    return frame.contentDocument;
  } catch {
    return null;
  }
}

/**
 * Every part of the page the recorder mirrors: the document, open shadow roots
 * and readable frames (recursively), each with where it sits on the top page.
 *
 * @returns {{root: Document|ShadowRoot, where: "page"|"component"|"frame", clip: object}[]}
 */
function parts(block) {
  const found = [];
  const visit = (root, where, clip) => {
    found.push({ root, where, clip });
    for (const element of root.querySelectorAll("*")) {
      if (element.closest(block)) continue; // not recorded, inside and out
      if (element.shadowRoot) visit(element.shadowRoot, where === "frame" ? "frame" : "component", clip);
      if (element.localName === "iframe" || element.localName === "frame") {
        const doc = readableDocument(element);
        if (doc?.documentElement) visit(doc, "frame", contentBox(element, clip));
      }
    }
  };
  visit(document, "page", { left: 0, top: 0, right: Infinity, bottom: Infinity });
  return found;
}

/** The element's box on the top page, cut to the frame it is seen through; null when not seen. */
function boxOf(element, clip) {
  const rect = element.getBoundingClientRect();
  if (!rect.width || !rect.height) return null;
  const left = Math.max(clip.left + rect.left, clip.left);
  const top = Math.max(clip.top + rect.top, clip.top);
  const right = Math.min(clip.left + rect.right, clip.right);
  const bottom = Math.min(clip.top + rect.bottom, clip.bottom);
  return right > left && bottom > top ? { left, top, width: right - left, height: bottom - top } : null;
}

/**
 * The fields whose typing is hidden, those the site unmasked, and the areas it
 * blocks or masks, across shadow roots and same-origin frames.
 *
 * @param {{block: string, hiding: string, isUnmasked(field: Element): boolean}} rules
 *   `block`: what the recorder leaves out (the widget's own included); `hiding`:
 *   block and mask selectors together; both may hold the site's own selectors.
 * @returns {{fields: object[], unmasked: object[], areas: object[]}} each item
 *   `{element, where, box}`; `where` is "page", "component" or "frame", `box` null when not on screen.
 */
export function findHidden({ block, hiding, isUnmasked }, defaults) {
  block = validSelector(block, defaults.block);
  hiding = validSelector(hiding, defaults.hiding);
  const found = { fields: [], unmasked: [], areas: [] };
  for (const { root, where, clip } of parts(block)) {
    const item = (element) => ({ element, where, box: boxOf(element, clip) });
    for (const field of root.querySelectorAll("input, textarea, select")) {
      if (field.type === "hidden" || field.closest(block)) continue;
      (isUnmasked(field) ? found.unmasked : found.fields).push(item(field));
    }
    for (const area of root.querySelectorAll(hiding)) {
      if (!area.matches("[data-otodesk]")) found.areas.push(item(area));
    }
  }
  return found;
}
