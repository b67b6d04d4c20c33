// The loader's queue stub (static/widget/loader.js), run in a bare VM context:
// every public method of the widget must exist before the widget module loads.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import vm from "node:vm";

const here = new URL(".", import.meta.url);
const loader = readFileSync(new URL("../../static/widget/loader.js", here), "utf8");
const widget = readFileSync(new URL("../../static/widget/widget.js", here), "utf8");

/** The method names of the widget's `const api = {...}` (what replaces the stub). */
function publicMethods() {
  const body = /const api = \{([\s\S]*?)\n\};/.exec(widget)[1];
  return [...body.matchAll(/^\s+(\w+)\b/gm)].map((match) => match[1]);
}

function runLoader(existing) {
  const storage = new Map();
  const window = {
    otodesk: existing,
    localStorage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => storage.set(k, String(v)) },
    addEventListener: () => {},
    console,
  };
  const document = {
    currentScript: { src: "https://desk.example.com/widget.js" },
    readyState: "loading", title: "Shop",
    getElementsByTagName: () => [],
  };
  vm.runInNewContext(loader, { window, document, location: { href: "https://shop.example.com/", origin: "https://shop.example.com" }, URL, Promise, JSON, Math, Date, Array });
  return window.otodesk;
}

test("the stub has every public method of the widget, and queues calls", () => {
  const methods = publicMethods();
  assert.ok(methods.includes("reset") && methods.includes("myData"), methods.join(","));
  const api = runLoader(undefined);
  for (const name of methods) assert.equal(typeof api[name], "function", `otodesk.${name} is stubbed`);
  const reset = api.reset();
  const myData = api.myData();
  assert.ok(reset instanceof Promise || typeof reset.then === "function");
  assert.ok(typeof myData.then === "function");
  assert.deepEqual(Array.from(api.q, (call) => call[0]), ["reset", "myData"]);
});

test("calls queued before the loader ran are kept", () => {
  const api = runLoader({ q: [["setContext", [{ cart: 1 }]]] });
  api.reset();
  assert.deepEqual(Array.from(api.q, (call) => call[0]), ["setContext", "reset"]);
});
