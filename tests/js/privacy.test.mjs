// The co-browse masking rules (static/widget/privacy.js), with stand-in elements.
import assert from "node:assert/strict";
import test from "node:test";
import { alwaysPrivate, looksLikeCard, maskCardsInText, maskEventUrls, maskInput, maskText, maskUrl } from "../../static/widget/privacy.js";

function element({ type = "text", name = "", id = "", autocomplete = "", attrs = {}, inside = [] } = {}) {
  const all = { type, name, autocomplete, ...attrs };
  return {
    type, id,
    getAttribute: (key) => (key in all ? all[key] : null),
    hasAttribute: (key) => key in attrs,
    closest: (selector) => (selector.split(",").some((part) => inside.includes(part.trim())) ? {} : null),
  };
}

test("Luhn-valid card numbers are recognised", () => {
  assert.equal(looksLikeCard("4242 4242 4242 4242"), true);
  assert.equal(looksLikeCard("4000-0566-5566-5556"), true);
  assert.equal(looksLikeCard("4242 4242 4242 4241"), false);
  assert.equal(looksLikeCard("12345"), false);
  assert.equal(maskCardsInText("card 4242 4242 4242 4242 ok, order 1234"), "card **** **** **** **** ok, order 1234");
});

test("every field is masked unless the site unmasks it", () => {
  assert.equal(maskInput("Dana", element({ name: "name" })), "****");
  const safe = element({ name: "promo", inside: ["[data-otodesk-unmask]"] });
  assert.equal(maskInput("SPRING-42", safe), "SPRING-42");
});

test("passwords and cards stay masked even when the site unmasks them", () => {
  const unmasked = ["[data-otodesk-unmask]"];
  assert.equal(maskInput("hunter2", element({ type: "password", inside: unmasked })), "*******");
  assert.equal(maskInput("4242", element({ name: "card", inside: unmasked })), "****");
  assert.equal(maskInput("4242", element({ autocomplete: "cc-number", inside: unmasked })), "****");
  assert.equal(maskInput("4242424242424242", element({ name: "note", inside: unmasked })), "****************");
  assert.equal(alwaysPrivate(element({ name: "company" })), false);
  assert.equal(alwaysPrivate(element({ id: "co-cvc" })), true);
});

test("page text: masked areas and card numbers", () => {
  assert.equal(maskText("Secret plan", element({ inside: ["[data-otodesk-mask]"] })), "****** ****");
  assert.equal(maskText("Paid with 4242 4242 4242 4242", element()), "Paid with **** **** **** ****");
  assert.equal(maskText("Hello", element()), "Hello");
});

test("a masked component or frame masks what is inside it", () => {
  const masked = element({ inside: ["[data-otodesk-mask]"] });
  const inShadow = { ...element(), getRootNode: () => ({ host: masked }) };
  const inFrame = { ...element(), getRootNode: () => ({ defaultView: { frameElement: masked } }) };
  assert.equal(maskText("Member 42", inShadow), "****** **");
  assert.equal(maskText("Member 42", inFrame), "****** **");
  assert.equal(maskText("Member 42", { ...element(), getRootNode: () => ({ host: element() }) }), "Member 42");
});

test("text shown through a <slot> is masked by a masked wrapper inside the component", () => {
  const slotInMaskedWrapper = element({ inside: ["[data-otodesk-mask]"] });
  const slotted = { ...element(), assignedSlot: slotInMaskedWrapper, parentElement: null };
  const child = { ...element(), parentElement: slotted }; // a text's element below the slotted one
  assert.equal(maskText("Member 42", child), "****** **");
  const plainSlot = { ...element(), assignedSlot: element(), parentElement: null };
  assert.equal(maskText("Member 42", plainSlot), "Member 42");
});

test("a site mask selector that throws masks rather than sends in clear", () => {
  const throwing = { ...element(), closest: () => { throw new SyntaxError("bad selector"); } };
  assert.equal(maskText("Member 42", throwing, { mask: "[[nope" }), "****** **");
  // ...and never unmasks a field.
  assert.equal(maskInput("SPRING", throwing, { unmask: "[[nope" }), "******");
});

test("a card typed key by key into a site-unmasked field never shows 6 of its digits", () => {
  const field = element({ name: "note", inside: ["[data-otodesk-unmask]"] });
  const card = "4111 1111 1111 1111";
  for (let end = 1; end <= card.length; end += 1) {
    const shown = maskInput(card.slice(0, end), field);
    assert.equal(/\d(?:\s?\d){5}/.test(shown), false, `${card.slice(0, end)} showed as ${shown}`);
  }
  assert.equal(maskInput("5555-5555-55", field), "****-****-**");
  // What a safe field is for still shows: codes, short numbers, numbers no card starts with.
  assert.equal(maskInput("SPRING-42", field), "SPRING-42");
  assert.equal(maskInput("order 12345678, zip 90210", field), "order 12345678, zip 90210");
  assert.equal(maskInput("ref 41111", field), "ref 41111");
});

test("page URLs lose the values of private query parameters", () => {
  const params = ["q", "email", "token"];
  assert.equal(maskUrl("https://shop.test/search?q=divorce+lawyer&page=2#top", { params }),
    "https://shop.test/search?q=***&page=2#top");
  assert.equal(maskUrl("https://shop.test/?Email=a%40b.c&x=1&q=", { params }), "https://shop.test/?Email=***&x=1&q=");
  assert.equal(maskUrl("https://shop.test/search?q=x&page=2#top", { query: "strip", params }), "https://shop.test/search#top");
  assert.equal(maskUrl("https://shop.test/search?q=x", { query: "keep", params }), "https://shop.test/search?q=x");
  assert.equal(maskUrl("https://shop.test/plain", { params }), "https://shop.test/plain");
});

test("rrweb events carry the page's URL masked: its address, links, added nodes, changed attributes", () => {
  const options = { params: ["q"] };
  const page = "https://shop.test/s?q=secret&p=2";
  assert.equal(maskEventUrls({ type: 4, data: { href: page } }, options).data.href, "https://shop.test/s?q=***&p=2");
  const full = { type: 2, data: { node: { type: 0, childNodes: [{ type: 2, tagName: "a", attributes: { href: `${page}#main`, title: "q=secret" }, childNodes: [] }] } } };
  maskEventUrls(full, options);
  assert.deepEqual(full.data.node.childNodes[0].attributes, { href: "https://shop.test/s?q=***&p=2#main", title: "q=secret" });
  const mutation = { type: 3, data: { source: 0, adds: [{ node: { type: 2, tagName: "form", attributes: { action: page } } }],
    attributes: [{ id: 4, attributes: { src: page } }] } };
  maskEventUrls(mutation, options);
  assert.equal(mutation.data.adds[0].node.attributes.action, "https://shop.test/s?q=***&p=2");
  assert.equal(mutation.data.attributes[0].attributes.src, "https://shop.test/s?q=***&p=2");
  assert.equal(maskEventUrls({ type: 4, data: { href: page } }, { query: "keep" }).data.href, page);
});
