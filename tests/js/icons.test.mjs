// The shared line icons (static/common/icons.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { ICON_NAMES, icon, placeIcons } from "../../static/common/icons.js";

const repo = new URL("../../", import.meta.url).pathname;

/** Just enough of a DOM for icons.js: elements with attributes, children and style. */
function fakeElement(namespace, tag) {
  const attributes = new Map();
  const element = {
    namespaceURI: namespace, tagName: tag, children: [], style: {}, dataset: {},
    setAttribute(name, value) {
      attributes.set(name, value);
      if (name.startsWith("data-")) element.dataset[name.slice(5).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = value;
    },
    getAttribute: (name) => attributes.get(name) ?? null,
    append(...nodes) { element.children.push(...nodes); },
    get firstElementChild() { return element.children[0] ?? null; },
  };
  return element;
}
globalThis.document = { createElementNS: fakeElement };

test("an icon is a decorative 1em SVG in the text colour", () => {
  const svg = icon("phone");
  assert.equal(svg.namespaceURI, "http://www.w3.org/2000/svg");
  assert.equal(svg.tagName, "svg");
  assert.equal(svg.getAttribute("aria-hidden"), "true");
  assert.equal(svg.getAttribute("focusable"), "false");
  assert.equal(svg.getAttribute("width"), "1em");
  assert.equal(svg.getAttribute("stroke"), "currentColor");
  assert.equal(svg.getAttribute("viewBox"), "0 0 24 24");
  assert.equal(svg.dataset.iconName, "phone");
  assert.ok(svg.children.length > 0);
  assert.ok(svg.children.every((child) => child.namespaceURI === svg.namespaceURI));
});

test("every icon builds, and an unknown name is an error", () => {
  for (const name of ICON_NAMES) assert.ok(icon(name).children.length > 0, name);
  assert.throws(() => icon("rocket"), /Unknown icon "rocket"/);
  assert.throws(() => icon("constructor"), /Unknown icon/);
});

test("placeIcons fills empty placeholders only", () => {
  const empty = fakeElement(null, "span");
  empty.dataset.icon = "bell";
  const filled = fakeElement(null, "span");
  filled.dataset.icon = "bell";
  filled.append(icon("mic"));
  const unknown = fakeElement(null, "span");
  unknown.dataset.icon = "rocket";
  const after = fakeElement(null, "span");
  after.dataset.icon = "phone";
  const warn = console.warn;
  console.warn = () => {};
  try {
    placeIcons({ querySelectorAll: () => [empty, filled, unknown, after] });
  } finally {
    console.warn = warn;
  }
  assert.equal(unknown.children.length, 0); // skipped, and the rest still filled
  assert.equal(after.firstElementChild.dataset.iconName, "phone");
  assert.equal(empty.children.length, 1);
  assert.equal(empty.firstElementChild.dataset.iconName, "bell");
  assert.equal(filled.children.length, 1);
  assert.equal(filled.firstElementChild.dataset.iconName, "mic");
});

test("every icon name the pages and the shop catalogue use exists", () => {
  const sources = [
    ...readdirSync(join(repo, "desktop/templates"), { recursive: true })
      .filter((file) => file.endsWith(".html")).map((file) => join("desktop/templates", file)),
    "desktop/demo/shop.py",
  ];
  const used = new Set();
  for (const file of sources) {
    const text = readFileSync(join(repo, file), "utf8");
    for (const match of text.matchAll(/data-icon="([a-z-]+)"|\bicon="([a-z-]+)"/g)) used.add(match[1] || match[2]);
  }
  for (const file of ["static/desk/customer.js", "static/desk/desk.js", "static/desk/offer.js", "static/desk/voice.js", "static/widget/ui.js"]) {
    const text = readFileSync(join(repo, file), "utf8");
    for (const match of text.matchAll(/\bicon\("([a-z-]+)"\)/g)) used.add(match[1]);
    // The lookup tables (KIND_ICONS, STATUS_ICONS): every quoted value after a colon.
    for (const [, body] of text.matchAll(/const [A-Z_]*ICONS = \{([^}]*)\}/g)) {
      for (const match of body.matchAll(/:\s*"([a-z-]+)"/g)) used.add(match[1]);
    }
  }
  for (const name of ["laptop", "bell", "phone", "receipt", "calendar"]) assert.ok(used.has(name), `${name} not found in ${[...used].join(", ")}`);
  const unknown = [...used].filter((name) => !ICON_NAMES.includes(name));
  assert.deepEqual(unknown, []);
});
