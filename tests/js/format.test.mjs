// Unit tests of the pure helpers the pages share. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { clock, ordinal, percent, shortUrl, waitText } from "../../static/common/format.js";
import { friendlyMessage, fromLocalInput, positionText, stateText, toLocalInput, waitText as widgetWait, zoneTime } from "../../static/widget/ui.js";
import { createMessages } from "../../static/common/i18n.js";
import english from "../../static/widget/messages-en.js";
import chinese from "../../static/widget/messages-zh-CN.js";

const en = createMessages("en", english);
const zh = createMessages("zh-CN", chinese);
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
  assert.equal(positionText(2, en), "You are 2nd in line");
  assert.equal(positionText(13, en), "You are 13th in line");
  assert.equal(positionText(null, en), "Finding your place in line…");
  assert.equal(positionText(2, zh), "您排在第2位");
});

test("waitText", () => {
  assert.equal(waitText(null), "estimating…");
  assert.equal(waitText(20), "less than a minute");
  assert.equal(waitText(170), "about 3 min");
  assert.equal(waitText(3600 + 300), "about 1 h 5 min");
});

test("the widget's wait, in the customer's language", () => {
  assert.equal(widgetWait(null, en), "estimating…");
  assert.equal(widgetWait(20, en), "less than a minute");
  assert.equal(widgetWait(170, en), `about ${en.duration(170)}`);
  assert.match(widgetWait(170, en), /^about 3 min/);
  assert.equal(widgetWait(null, zh), "正在估算…");
  assert.match(widgetWait(170, zh), /^约3\s?分钟$/);
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
  assert.equal(stateText({ state: "connected", agent_name: "Alice" }, en), "Connected with Alice");
  assert.equal(stateText({ state: "connected" }, en), "Connected with an agent");
  assert.equal(stateText({ state: "offered" }, en), "An agent is about to call you");
  assert.equal(stateText({ state: "connected", agent_name: "Alice" }, zh), "已与Alice接通");
});

test("a phone callback is not 'connected' before the agent has dialled it", () => {
  // Until telephony lands the agent dials by hand: the customer is told their phone will ring.
  assert.equal(stateText({ state: "connected", channel: "phone", agent_name: "Alice" }, en), "Alice is calling you");
  assert.equal(stateText({ state: "connected", channel: "browser", agent_name: "Alice" }, en), "Connected with Alice");
});

test("a phone callback the server dials says connected only once the phone answers", () => {
  const at = (phone_call) => stateText({ state: "connected", channel: "phone", agent_name: "Alice", phone_call }, en);
  assert.equal(at({ state: "dialling" }), "Alice is calling you");
  assert.equal(at({ state: "ringing" }), "Your phone is ringing");
  assert.equal(at({ state: "connected" }), "Connected with Alice");
  assert.equal(at({ state: "ended", result: "busy" }), "Your line was busy");
  assert.equal(at({ state: "ended", result: "no_answer" }), "We couldn't reach you");
  assert.equal(at({ state: "ended", result: "completed" }), "Your call has ended. Thank you!");
});

test("the phone's states in Chinese come from the catalogue", () => {
  const at = (phone_call) => stateText({ state: "connected", channel: "phone", agent_name: "Alice", phone_call }, zh);
  assert.equal(at({ state: "ringing" }), chinese["state.phone_ringing"]);
  assert.equal(at({ state: "ended", result: "busy" }), chinese["state.phone_busy"]);
});

test("an error reads in the catalogue's words for its code in every language, internals hidden", () => {
  assert.equal(friendlyMessage({ code: "invalid_phone", message: "not a phone number: too short" }, en), english["error.invalid_phone"]);
  assert.match(friendlyMessage({ code: "internal", message: "Traceback…" }, en), /went wrong on our side/);
  assert.match(friendlyMessage({ code: "timeout" }, en), /couldn't reach/);
  assert.equal(friendlyMessage({ code: "invalid_phone", message: "not a phone number: too short" }, zh), chinese["error.invalid_phone"]);
  assert.equal(friendlyMessage({ code: "bad_message", message: "Expected `str`" }, zh), chinese["error.bad_message"]);
  assert.equal(friendlyMessage({ code: "internal", message: "Traceback…" }, zh), chinese["error.internal"]);
  assert.equal(friendlyMessage({ code: "already_waiting", message: "you already have a callback request" }, zh), chinese["error.already_waiting"]);
});

test("only a code the widget does not know shows the server's own text", () => {
  assert.equal(friendlyMessage({ code: "brand_new", message: "A new refusal." }, zh), "A new refusal.");
  assert.equal(friendlyMessage({ code: "brand_new" }, zh), chinese["error.generic"]);
});

test("an error's facts fill its words: when a closed queue opens, how long to wait", () => {
  const opens = 1796292000;
  const closed = { code: "bad_time", message: "Sales is closed now; it opens ...", detail: { reason: "closed", queue: "销售", at: opens - 3600, opens } };
  assert.equal(friendlyMessage(closed, zh), `销售现在不在服务时间，将于${zh.dateTime(opens)}开始服务。请选择服务时间内的时段，我们届时给您回电。`);
  assert.match(friendlyMessage({ ...closed, detail: { reason: "closed", queue: "Sales", opens: null } }, en), /^Sales has no opening hours planned/);
  const limit = { code: "too_many_requests", message: "You've asked for 3 callbacks ...", detail: { budget: "visitor", count: 3, window: 3600, wait: 600 } };
  assert.equal(friendlyMessage(limit, zh), `您在过去${zh.duration(3600)}内已申请3次回电，请在${zh.duration(600)}后再试。`);
  assert.equal(friendlyMessage(limit, en), `You've asked for 3 calls in the last ${en.duration(3600)}. You can ask again in ${en.duration(600)}.`);
  assert.equal(friendlyMessage({ code: "rate_limited", retryAfter: 120 }, zh), `操作太快了，请在${zh.duration(120)}后重试。`);
  assert.equal(friendlyMessage({ code: "invalid_state", message: "you have already said ...", detail: { reason: "reopened" } }, zh), chinese["error.reopened"]);
  assert.match(friendlyMessage({ code: "phone_refused", message: "premium-rate numbers can't be called back", detail: { kind: "premium_rate" } }, en), /premium-rate/);
  assert.equal(friendlyMessage({ code: "phone_refused", detail: { kind: "premium_rate" } }, zh), chinese["error.refused_premium_rate"]);
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

test("the rules of calling, worded from the error's facts in every language", () => {
  const waiting = { code: "phone_waiting", message: "this number already has a callback request (queued)", detail: { state: "queued", scheduled_at: null } };
  assert.equal(friendlyMessage(waiting, en), english["error.phone_waiting"]);
  assert.equal(friendlyMessage(waiting, zh), chinese["error.phone_waiting"]);
  const booked = { code: "phone_waiting", detail: { state: "scheduled", scheduled_at: 1796292000 } };
  assert.match(friendlyMessage(booked, en), /already has a call booked for .+\. We'll call it then/);
  assert.equal(friendlyMessage({ code: "phone_waiting", detail: { state: "connected" } }, zh), chinese["error.phone_waiting_now"]);
  const country = { code: "phone_country", message: "we can only call numbers in ...", detail: { country: "GB", allowed: ["US", "CA"] } };
  assert.equal(friendlyMessage(country, en), "We can only call numbers in United States and Canada. Please give a number there, or talk in your browser.");
  assert.match(friendlyMessage(country, zh), /^我们只能拨打以下国家或地区的号码：美国和加拿大。/);
});

test("a time on the called phone's clock", () => {
  // 13:00 UTC on Thursday 3 December 2026 is 08:00 in New York and 21:00 in Shanghai.
  assert.equal(zoneTime(1796302800, "America/New_York", "en"), "Thu, Dec 3, 08:00");
  assert.match(zoneTime(1796302800, "Asia/Shanghai", "zh-CN"), /21:00/);
  assert.match(zoneTime(1796302800, "Not/AZone", "en"), /\d\d:\d\d/); // the browser's own zone then
});

test("a phone callback scheduled again after a failed attempt keeps saying why", () => {
  // Seen on a tour of issue 13: "Your line was busy" flashed, then only "Your call is scheduled".
  const retry = (result) => ({ state: "scheduled", channel: "phone", phone_call: { state: "ended", result } });
  assert.equal(stateText(retry("busy"), en), "Your line was busy");
  assert.equal(stateText(retry("no_answer"), en), "We couldn't reach you");
  assert.equal(stateText(retry("busy"), zh), chinese["state.phone_busy"]);
  // A callback the customer scheduled themself (or after a reload: no SIP call known) as before.
  assert.equal(stateText({ state: "scheduled", channel: "phone" }, en), "Your call is scheduled");
  assert.equal(stateText({ ...retry("completed") }, en), "Your call is scheduled");
});
