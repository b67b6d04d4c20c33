// The desk's offer of a call that was phoned in, rendered in Traditional Chinese (static/desk/offer.js
// on a minimal stand-in DOM): the offer's kind, the channel and the caller match are translated and
// the caller's own name is translate="no". Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { installFakeDom } from "./fake_dom.mjs";

installFakeDom({ lang: "zh-TW" });

const { OfferCard } = await import("../../static/desk/offer.js");
const { closedText, endedText, phoneText, requestText } = await import("../../static/desk/customer.js");

function offer(caller, name) {
  const card = new OfferCard({ now: () => 1000, accept: async () => {}, decline: async () => {} });
  return card.render({
    offer_id: "o1", callback_id: "c1", expires_at: 1020, offered_at: 1000,
    customer: { name, phone: "+886212345678" },
    callback: { channel: "phone_inbound", caller, queue: "sales", phone: "+886212345678", enqueued_at: 990 },
  }, [{ name: "sales", title: "Sales" }]);
}

test("a phoned-in offer is worded in Chinese, the caller's own name left as it is", () => {
  const element = offer("verified", "Mei Lin");
  assert.match(element.find("offer-kind").textContent, /^電話來電 · Sales$/);
  assert.equal(element.find("offer-name").textContent, "Mei Lin");
  assert.equal(element.find("offer-name").getAttribute("translate"), "no");
  assert.match(element.find("offer-channel").textContent, /打電話進來/);
  assert.equal(element.find("offer-caller").textContent, "已驗證的號碼");
});

test("an unmatched caller is an unknown caller, in Chinese, and not their record's name", () => {
  const element = offer("ambiguous", "Someone Else");
  assert.equal(element.find("offer-name").textContent, "未知來電者");
  assert.equal(element.find("offer-name").getAttribute("translate"), null);
  assert.equal(element.find("offer-caller").textContent, "多位客戶共用此號碼：請確認來電者是誰");
});

test("the timeline's not-dialled results and the consent are in Chinese", () => {
  assert.equal(phoneText({ kind: "phone_attempt", data: { attempt: 1, number: "+12125550123", result: "not_dialled" } }),
    "第1次撥打 +12125550123：未撥打，不在可致電時段內");
  assert.match(phoneText({ kind: "phone_attempt", data: { attempt: 1, number: "+1", result: "refused" } }), /未撥打（伺服器已達電話通話上限）/);
  assert.equal(requestText({ queue: "sales", consent: { address: "203.0.113.7", text: "You may call me." } }),
    "sales · 同意接聽來電（來自 203.0.113.7）：「You may call me.」");
});

test("a call while closed and a line that dropped read in Chinese on the timeline", () => {
  assert.match(closedText({ queue: "sales", opens: 1_780_000_000 }), /^sales當時已下班；下次營業時間：.+/);
  assert.equal(closedText({ queue: "sales", opens: null }), "sales當時已下班，暫無營業安排");
  assert.equal(endedText({ kind: "callback_abandoned", data: { reason: "line_dropped" } }), "線路中斷（承載通話的伺服器已停止）");
  assert.equal(endedText({ kind: "callback_abandoned", data: { reason: "hung_up" } }), "來電者在等待時掛斷");
  assert.equal(endedText({ kind: "callback_abandoned", data: {} }), "");
  assert.equal(endedText({ kind: "note", data: { reason: "line_dropped" } }), "");
});

test("a callback the caller chose by pressing 1 while waiting says so, in Chinese, with the line they phoned", async () => {
  const { chosenText } = await import("../../static/desk/customer.js");
  const card = new OfferCard({ now: () => 1000, accept: async () => {}, decline: async () => {} });
  const element = card.render({
    offer_id: "o2", callback_id: "c2", expires_at: 1020, offered_at: 1000,
    customer: { name: "Mei Lin", phone: "+442079460481" },
    callback: { channel: "phone", queue: "sales", phone: "+442079460481", enqueued_at: 990,
      chosen_while_waiting: { at: 995, line: "+442079460500" } },
  }, [{ name: "sales", title: "Sales" }]);
  assert.match(element.find("offer-kind").textContent, /^來電等候時選擇回電 · Sales$/);
  assert.match(element.find("offer-chosen").textContent, /^撥打 \+442079460500 等候時於 .+ 按了 1：掛斷電話，等候我們回撥此號碼$/);
  assert.equal(chosenText({ queue: "sales", number: "+442079460481", waited_s: 95 }), "在sales等候 1:35 後按 1：請回撥 +442079460481");
});

test("the queue a fresh install makes reads in Chinese; the centre's own titles stay as typed", async () => {
  const { queueTitle } = await import("../../static/desk/customer.js");
  const { queueName } = await import("../../static/common/staff-language.js");
  const card = new OfferCard({ now: () => 1000, accept: async () => {}, decline: async () => {} });
  // A call in the default queue ("General" on a Chinese desk, found on a tour).
  const element = card.render({
    offer_id: "o3", callback_id: "c3", expires_at: 1020, offered_at: 1000, customer: { name: "Mei Lin" },
    callback: { channel: "browser", queue: "general", enqueued_at: 990 },
  }, [{ name: "general", title: "General" }, { name: "sales", title: "Sales" }]);
  assert.match(element.find("offer-kind").textContent, / · 綜合$/);
  assert.equal(element.find("offer-queue").textContent, "綜合");
  // Also when the desk's list of queues has not got it (a callback moved there by a deletion).
  assert.equal(queueTitle([], "general"), "綜合");
  // An admin's own title for it, and any other queue's title, are the centre's words.
  assert.equal(queueTitle([{ name: "general", title: "Help desk" }], "general"), "Help desk");
  assert.equal(queueTitle([{ name: "sales", title: "General" }], "sales"), "General");
  assert.equal(queueName((key) => key, { name: "support", title: "Support" }), "Support");
});
