// A minimal stand-in DOM for the desk's modules under node (tests/js/desk_*.test.mjs): enough for
// them to build their elements, and find(testid) to read what they drew. Install it before
// importing a desk module (they read document at load): `installFakeDom(); await import(...)`.
export class FakeNode {}
export class FakeText extends FakeNode {
  constructor(text) { super(); this.text = text; }
  get textContent() { return this.text; }
}
export class FakeElement extends FakeNode {
  constructor(tag) {
    super();
    this.tag = tag;
    this.attributes = {};
    this.dataset = {};
    this.style = {};
    this.children = [];
    this.classList = { add() {}, remove() {}, toggle() {}, contains: () => false };
  }
  setAttribute(name, value) { this.attributes[name] = String(value); }
  getAttribute(name) { return this.attributes[name] ?? null; }
  addEventListener() {}
  append(...nodes) { for (const n of nodes) this.children.push(typeof n === "string" ? new FakeText(n) : n); }
  replaceChildren(...nodes) { this.children = []; this.append(...nodes); }
  querySelector() { return null; }
  querySelectorAll() { return []; }
  get textContent() { return this.children.map((c) => c.textContent).join(""); }
  set textContent(value) { this.children = [new FakeText(String(value))]; }
  find(testid) {
    if (this.dataset.testid === testid) return this;
    for (const c of this.children) {
      const found = c instanceof FakeElement ? c.find(testid) : null;
      if (found) return found;
    }
    return null;
  }
}
/** Make ``document`` and ``Node`` the stand-ins; ``lang``: the page's language (the catalogue read). */
export function installFakeDom({ lang = "en" } = {}) {
  globalThis.Node = FakeNode;
  globalThis.document = {
    documentElement: { lang, classList: { remove() {} } },
    createElement: (tag) => new FakeElement(tag),
    createElementNS: (_ns, tag) => new FakeElement(tag),
    createTextNode: (text) => new FakeText(text),
    querySelector: () => null,
    querySelectorAll: () => [],
  };
}
