// The desk's voice panel talk time (static/desk/voice.js TalkClock): a phone the server dials talks
// from its answer. Seen on a tour of issue 13: the timer ran through the dialling and the ringing,
// and a busy phone's panel read "Busy 0:03". Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { installFakeDom } from "./fake_dom.mjs";

installFakeDom();

const { TalkClock } = await import("../../static/desk/voice.js");

const ACCEPTED = 1000; // the callback's answer: the agent accepted
const call = (phone) => ({ callback_id: "c1", state: phone?.state === "ended" ? "ended" : "active", started_at: ACCEPTED, phone });

test("a dialled phone shows no talk time while dialled and ringing, then counts from its answer", () => {
  const clock = new TalkClock(ACCEPTED, { dialled: true });
  assert.equal(clock.seconds(ACCEPTED + 1), null); // before the first voice_state
  clock.saw(call({ state: "dialling" }), ACCEPTED + 1);
  clock.saw(call({ state: "ringing" }), ACCEPTED + 2);
  assert.equal(clock.seconds(ACCEPTED + 3), null);
  clock.saw(call({ state: "connected" }), ACCEPTED + 8);
  assert.equal(clock.seconds(ACCEPTED + 8), 0);
  assert.equal(clock.seconds(ACCEPTED + 73), 65);
  clock.saw(call({ state: "connected", held: true }), ACCEPTED + 80); // a later change keeps the answer
  assert.equal(clock.seconds(ACCEPTED + 81), 73);
});

test("a busy or unanswered phone never talked", () => {
  for (const result of ["busy", "no_answer", "failed"]) {
    const clock = new TalkClock(ACCEPTED, { dialled: true });
    clock.saw(call({ state: "ringing" }), ACCEPTED + 1);
    clock.saw(call({ state: "ended", result }), ACCEPTED + 3);
    assert.equal(clock.seconds(ACCEPTED + 3), null, result);
  }
});

test("a desk loaded mid-call counts from the call's start; browser and inbound calls as before", () => {
  const reloaded = new TalkClock(ACCEPTED, { dialled: true });
  reloaded.saw(call({ state: "connected" }), ACCEPTED + 30);
  assert.equal(reloaded.seconds(ACCEPTED + 30), 30);

  const browser = new TalkClock(ACCEPTED);
  assert.equal(browser.seconds(ACCEPTED + 5), 5);
  browser.saw(call(null), ACCEPTED + 6);
  assert.equal(browser.seconds(ACCEPTED + 6), 6);

  const inbound = new TalkClock(ACCEPTED);
  inbound.saw(call({ state: "connected", inbound: true }), ACCEPTED + 2);
  assert.equal(inbound.seconds(ACCEPTED + 2), 2);
});

test("the talk time stops with the call", () => {
  const clock = new TalkClock(ACCEPTED, { dialled: true });
  clock.saw(call({ state: "ringing" }), ACCEPTED + 1);
  clock.saw(call({ state: "connected" }), ACCEPTED + 4);
  clock.saw(call({ state: "ended", result: "completed" }), ACCEPTED + 65);
  assert.equal(clock.seconds(ACCEPTED + 90), 61);
});
