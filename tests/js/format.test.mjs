// Unit tests of the pure helpers the pages share. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { clock, ordinal, percent, shortUrl, waitText } from "../../static/common/format.js";
import { friendlyMessage, fromLocalInput, positionText, stateText, toLocalInput } from "../../static/widget/ui.js";
import { alignHistory } from "../../static/supervisor/chart.js";

test("clock", () => {
  assert.equal(clock(0), "0:00");
  assert.equal(clock(65), "1:05");
  assert.equal(clock(3725), "1:02:05");
  assert.equal(clock(-3), "0:00");
  assert.equal(clock(null), "0:00");
});

test("ordinal and position", () => {
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(ordinal),
    ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]);
  assert.equal(positionText(2), "You are 2nd in line");
  assert.equal(positionText(null), "Finding your place in line…");
});

test("waitText", () => {
  assert.equal(waitText(null), "estimating…");
  assert.equal(waitText(20), "less than a minute");
  assert.equal(waitText(170), "about 3 min");
  assert.equal(waitText(3600 + 300), "about 1 h 5 min");
});

test("percent takes fractions and percentages", () => {
  assert.equal(percent(0.873), "87%");
  assert.equal(percent(87.3), "87%");
  assert.equal(percent(null), "—");
});

test("shortUrl", () => {
  assert.equal(shortUrl("https://shop.test/product/x?y=1"), "shop.test/product/x?y=1");
  assert.equal(shortUrl("https://shop.test/"), "shop.test");
  assert.equal(shortUrl("not a url"), "not a url");
});

test("datetime-local round trip is local time", () => {
  const date = new Date(2031, 4, 6, 18, 30);
  assert.equal(toLocalInput(date), "2031-05-06T18:30");
  assert.equal(fromLocalInput("2031-05-06T18:30"), date.getTime() / 1000);
  assert.equal(fromLocalInput(""), null);
  assert.equal(fromLocalInput("garbage"), null);
});

test("state texts", () => {
  assert.equal(stateText({ state: "connected", agent_name: "Alice" }), "Connected with Alice");
  assert.equal(stateText({ state: "offered" }), "An agent is about to call you");
});

test("a phone callback is not 'connected' before the agent has dialled it", () => {
  // Until telephony lands the agent dials by hand: the customer is told their phone will ring.
  assert.equal(stateText({ state: "connected", channel: "phone", agent_name: "Alice" }), "Alice is calling you");
  assert.equal(stateText({ state: "connected", channel: "browser", agent_name: "Alice" }), "Connected with Alice");
});

test("a phone callback the server dials says connected only once the phone answers", () => {
  const at = (phone_call) => stateText({ state: "connected", channel: "phone", agent_name: "Alice", phone_call });
  assert.equal(at({ state: "dialling" }), "Alice is calling you");
  assert.equal(at({ state: "ringing" }), "Your phone is ringing");
  assert.equal(at({ state: "connected" }), "Connected with Alice");
  assert.equal(at({ state: "ended", result: "busy" }), "Your line was busy");
  assert.equal(at({ state: "ended", result: "no_answer" }), "We couldn't reach you");
  assert.equal(at({ state: "ended", result: "completed" }), "Your call has ended. Thank you!");
});

test("friendlyMessage keeps the server's reason, hides internals", () => {
  assert.equal(friendlyMessage({ code: "invalid_phone", message: "The number is too short." }), "The number is too short.");
  assert.match(friendlyMessage({ code: "internal", message: "Traceback…" }), /went wrong on our side/);
  assert.match(friendlyMessage({ code: "timeout" }), /couldn't reach/);
});

test("alignHistory puts queues on one time axis, with the live value last", () => {
  const queues = [{ name: "sales", waiting: 3 }, { name: "support", waiting: 0 }];
  const history = { sales: [[1000, 1], [1060, 2]], support: [[1060, 5]] };
  assert.deepEqual(alignHistory(queues, history, 1090), [
    [1000, 1060, 1090],
    [1, 2, 3],
    [null, 5, 0],
  ]);
});
