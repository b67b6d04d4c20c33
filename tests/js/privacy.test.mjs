// The co-browse masking rules (static/widget/privacy.js), with stand-in elements.
import assert from "node:assert/strict";
import test from "node:test";
import { alwaysPrivate, looksLikeCard, maskCardsInText, maskInput, maskText } from "../../static/widget/privacy.js";

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
