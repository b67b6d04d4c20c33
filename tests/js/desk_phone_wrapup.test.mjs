// The desk's wrap-up after a dialled phone ended (static/desk/contact.js on a minimal stand-in DOM):
// it says how the attempt ended (busy, no answer…), from the card, so a reloaded desk still knows
// (seen on a tour of issue 13: after a reload the wrap-up said nothing of the busy line).
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { FakeElement, installFakeDom } from "./fake_dom.mjs";

installFakeDom();

globalThis.requestAnimationFrame = () => 0;
Object.defineProperty(FakeElement.prototype, "options", { get() { return this.children; } });

const { ContactView } = await import("../../static/desk/contact.js");

function wrapUp(callback, extra) {
  const view = new ContactView({ now: () => 1000, end: async () => {}, wrapUp: async () => {} });
  return view.render({
    callback_id: "c1", state: "wrap_up", answered_at: 990, wrap_up_ends_at: 1060,
    customer: { name: "Bea Busy", phone: "+442079460133" },
    callback: { channel: "phone", queue: "sales", phone: "+442079460133", ...callback }, ...extra,
  }, { queues: [{ name: "sales", title: "Sales" }], dispositions: ["Resolved"], phoneDials: true });
}

test("a dialled phone's wrap-up says how the attempt ended", () => {
  const line = wrapUp({}, { phone_attempt: { attempt: 1, number: "+442079460133", result: "busy", status: 486 } })
    .find("wrapup-phone");
  assert.equal(line.hidden, false);
  assert.equal(line.textContent, "Attempt 1 to +442079460133: busy (486)");
});

test("nothing is said when the card has no attempt (no trunk, or not written yet)", () => {
  assert.equal(wrapUp({}, {}).find("wrapup-phone").hidden, true);
});
