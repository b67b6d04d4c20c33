// Small line icons drawn as inline SVG, for every page and the widget.
//
// Emoji were our icons, but a machine without a colour emoji font (many Linux
// desktops) shows them as empty boxes. An SVG draws the same everywhere, takes
// the text colour (stroke="currentColor") and the text size (1em square), and
// works inside the widget's shadow root, where no outside CSS reaches.
//
//   h("span", { class: "ring-icon" }, icon("phone"))
//   <span data-icon="headphones"></span>  + placeIcons(document)  // server-rendered pages
//
// The shapes are our own, on a 24×24 grid with a 2-unit round stroke. Building
// them is data to elements (createElementNS), never markup parsing.

const SVG_NS = "http://www.w3.org/2000/svg";

const path = (d) => ["path", { d }];
const circle = (cx, cy, r) => ["circle", { cx, cy, r }];
const rect = (x, y, width, height, rx = 2) => ["rect", { x, y, width, height, rx }];

/** Each icon: the child elements of its <svg>, as [tag, attributes]. */
const SHAPES = {
  phone: [path("M5 2h3l1.5 4.5-2 1.5a11 11 0 0 0 8.5 8.5l1.5-2 4.5 1.5v3a2 2 0 0 1-2 2A17 17 0 0 1 3 4a2 2 0 0 1 2-2z")],
  headphones: [path("M4 15v-3a8 8 0 0 1 16 0v3"), path("M4 15a2 2 0 0 1 2-2h1v7H6a2 2 0 0 1-2-2z"), path("M20 15a2 2 0 0 0-2-2h-1v7h1a2 2 0 0 0 2-2z")],
  mic: [rect(9, 3, 6, 11, 3), path("M5 11a7 7 0 0 0 14 0"), path("M12 18v3")],
  bell: [path("M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z"), path("M10 21a2 2 0 0 0 4 0")],
  "bell-off": [path("M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z"), path("M10 21a2 2 0 0 0 4 0"), path("M3 3l18 18")],
  "check-circle": [circle(12, 12, 9), path("M8 12.5l2.5 2.5L16 9.5")],
  "x-circle": [circle(12, 12, 9), path("M9 9l6 6M15 9l-6 6")],
  hourglass: [path("M6 3h12M6 21h12"), path("M7 3v3c0 3 5 4 5 6s-5 3-5 6v3M17 3v3c0 3-5 4-5 6s5 3 5 6v3")],
  calendar: [rect(3, 5, 18, 16), path("M3 10h18M8 3v4M16 3v4")],
  note: [path("M6 3h8l4 4v14H6z"), path("M14 3v4h4M9 12h6M9 16h6")],
  page: [path("M6 3h8l4 4v14H6z"), path("M14 3v4h4")],
  mail: [rect(3, 5, 18, 14), path("M3 7l9 6 9-6")],
  chat: [path("M4 5h16v11H10l-6 4z")],
  store: [path("M3 10l2-6h14l2 6z"), path("M5 10v10h14V10M10 20v-5h4v5")],
  people: [circle(9, 8, 3), path("M3 20a6 6 0 0 1 12 0"), path("M16 5.5a3 3 0 0 1 0 5.5M18 14.5a6 6 0 0 1 3 5.5")],
  search: [circle(11, 11, 6), path("M20 20l-4.5-4.5")],
  receipt: [path("M6 3h12v18l-3-2-3 2-3-2-3 2z"), path("M9 8h6M9 12h6M9 16h3")],
  smartphone: [rect(7, 2, 10, 20), path("M11 18h2")],
  globe: [circle(12, 12, 9), path("M3 12h18M12 3a14 14 0 0 1 0 18 14 14 0 0 1 0-18")],
  laptop: [rect(5, 5, 14, 10, 1), path("M2 19h20")],
  camera: [path("M4 8h3l2-3h6l2 3h3a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1z"), circle(12, 13.5, 3.5)],
  watch: [circle(12, 12, 5), path("M9 7.5L10 3h4l1 4.5M9 16.5l1 4.5h4l1-4.5M12 10v2l1.5 1")],
  home: [path("M3 11l9-7 9 7"), path("M5 9.5V20h14V9.5M10 20v-6h4v6")],
  bike: [circle(6, 16, 4), circle(18, 16, 4), path("M6 16l4-7h6l2 7M10 9l3 7H6M16 9l-1-3h-2")],
  bag: [path("M5 8h14l-1 13H6z"), path("M9 10V6a3 3 0 0 1 6 0v4")],
  dot: [["circle", { cx: 12, cy: 12, r: 3, fill: "currentColor" }]],
};

/** The names `icon()` knows. */
export const ICON_NAMES = Object.freeze(Object.keys(SHAPES));

/**
 * A new decorative <svg> for `name`, 1em square, in the current text colour
 * and hidden from screen readers (the text next to it says what it means).
 * Throws on an unknown name: names come from our own code, never from data.
 */
export function icon(name, { className = "" } = {}) {
  // Not Object.hasOwn: the widget runs on customers' sites, in browsers older than it.
  const shapes = Object.prototype.hasOwnProperty.call(SHAPES, name) ? SHAPES[name] : null;
  if (!shapes) throw new Error(`Unknown icon "${name}"; known: ${ICON_NAMES.join(", ")}`);
  const svg = svgElement("svg", {
    class: ["icon", className].filter(Boolean).join(" "),
    viewBox: "0 0 24 24", width: "1em", height: "1em",
    fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round",
    "aria-hidden": "true", focusable: "false", "data-icon-name": name,
  });
  // Set through the CSSOM: a style="" attribute would trip a strict CSP on the host page.
  svg.style.verticalAlign = "-0.125em";
  svg.style.flex = "none";
  for (const [tag, attrs] of shapes) svg.append(svgElement(tag, attrs));
  return svg;
}

/** Fill every empty `[data-icon]` placeholder under `root` (server-rendered pages). */
export function placeIcons(root) {
  for (const slot of root.querySelectorAll("[data-icon]")) {
    if (slot.firstElementChild) continue;
    try {
      slot.append(icon(slot.dataset.icon));
    } catch (error) {
      console.warn(error.message); // one bad placeholder must not stop the page's script
    }
  }
}

function svgElement(tag, attrs) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, String(value));
  return element;
}
