// What the desk's voice panel says when a phone call ends (static/desk/voice.js phoneText): the
// agent's own hang-up is not "The customer hung up" (seen on a tour of issue 13: the agent pressed
// Hang up and was told the customer had). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { installFakeDom } from "./fake_dom.mjs";

installFakeDom();

const { phoneText } = await import("../../static/desk/voice.js");

const ended = (more) => ({ number: "+442079460132", state: "ended", result: "completed", status: 0, reason: "",
  inbound: false, waiting: false, early_media: false, held: false, hung_up_by_us: false, ...more });

test("the far end hanging up is the customer's or the caller's", () => {
  assert.equal(phoneText(ended({})), "The customer hung up");
  assert.equal(phoneText(ended({ inbound: true })), "The caller hung up");
});

test("the agent hanging up a phone call is not said to be the customer's", () => {
  assert.equal(phoneText(ended({ hung_up_by_us: true })), "Call ended");
  assert.equal(phoneText(ended({ hung_up_by_us: true, inbound: true })), "Call ended");
});

test("the other ends keep their words", () => {
  assert.equal(phoneText(ended({ result: "busy", status: 486 })), "Busy");
  assert.equal(phoneText(ended({ result: "no_answer" })), "No answer");
});
