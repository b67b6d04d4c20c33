// What the agent can't see on a shared page, found on the customer's side.
//
// rrweb mirrors the DOM, not pixels: a cross-origin (or script-sandboxed)
// iframe can't be read from this page, a <canvas> drawing and a <video> frame
// are pixels. The recorder reports how many of each the page shows, with their
// rrweb node ids, so the desk can say so and draw a placeholder over each.
// Elements the site blocks, and the widget's own, are never recorded anyway.

const MAX_AREAS = 50; // the server's schema limit

function readable(frame) {
  try {
    return !!frame.contentDocument;
  } catch {
    return false;
  }
}

/**
 * Sizes go too: in the desk's script-less replay a <canvas> collapses to its
 * (empty) fallback content, so the desk restores its box from them.
 *
 * @param {{getId(node): number}} mirror  rrweb's record.mirror
 * @param {string} skip  a selector of elements that are not recorded (blocked, the widget)
 * @returns {{frames: number, canvases: number, videos: number, areas: {kind: string, node: number}[]}}
 */
export function scan(mirror, skip) {
  const found = { frames: 0, canvases: 0, videos: 0, areas: [] };
  for (const element of document.querySelectorAll("iframe, frame, canvas, video")) {
    if (skip && element.closest(skip)) continue;
    if (!element.getClientRects().length) continue; // not displayed: nothing missing
    let kind;
    if (element.localName === "canvas") kind = "canvas";
    else if (element.localName === "video") kind = "video";
    else if (!readable(element)) kind = "frame";
    else continue; // a same-origin frame mirrors like the page
    found[{ frame: "frames", canvas: "canvases", video: "videos" }[kind]] += 1;
    const node = mirror?.getId?.(element);
    const { width, height } = element.getBoundingClientRect();
    if (node > 0 && found.areas.length < MAX_AREAS) found.areas.push({ kind, node, width: Math.round(width), height: Math.round(height) });
  }
  return found;
}
