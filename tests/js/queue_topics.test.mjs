// A queue's languages and topics (issue 14): the console's topic lines <-> the API's JSON
// (static/admin/topics.js), and the widget's choice of queue and topic words for the
// customer's language (static/widget/queue_choice.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { TopicLineError, topicsFromText, topicsToText } from "../../static/admin/topics.js";
import { queueForLanguage, topicText } from "../../static/widget/queue_choice.js";

test("topic lines become the API's topics and back; a line without a language code is refused", () => {
  const text = "Payment failed | zh-CN: 付款失败 | zh-TW：付款失敗\n\n  Delivery  ";
  const topics = topicsFromText(text);
  assert.deepEqual(topics, [
    { text: "Payment failed", translations: { "zh-CN": "付款失败", "zh-TW": "付款失敗" } },
    { text: "Delivery", translations: {} },
  ]);
  assert.equal(topicsToText(topics), "Payment failed | zh-CN: 付款失败 | zh-TW: 付款失敗\nDelivery");
  assert.deepEqual(topicsFromText(topicsToText(topics)), topics);
  assert.throws(() => topicsFromText("Refund | 退款"), (error) => error instanceof TopicLineError && error.line === "Refund | 退款");
  assert.throws(() => topicsFromText("| zh-CN: 退款"), TopicLineError);
});

test("the widget picks the queue that speaks its language, exactly first, then the same language", () => {
  const queues = [
    { name: "general", languages: [] },
    { name: "sales", languages: ["en"] },
    { name: "taiwan", languages: ["zh-TW"] },
    { name: "china", languages: ["zh-CN", "en"] },
  ];
  assert.equal(queueForLanguage(queues, "zh-CN").name, "china");
  assert.equal(queueForLanguage(queues, "zh-TW").name, "taiwan");
  assert.equal(queueForLanguage(queues, "en").name, "sales");
  assert.equal(queueForLanguage(queues, "zh-HK").name, "taiwan"); // the first speaking "zh"
  assert.equal(queueForLanguage(queues, "fr"), null);
  assert.equal(queueForLanguage([{ name: "old" }], "en"), null); // a server without languages
});

test("a topic reads in the customer's language when it has it, else its plain text", () => {
  const topic = { text: "Payment failed", translations: { "zh-CN": "付款失败", zh: "付款" } };
  assert.equal(topicText(topic, "zh-CN"), "付款失败");
  assert.equal(topicText(topic, "zh-cn"), "付款失败");
  assert.equal(topicText(topic, "zh-TW"), "付款"); // the bare language's
  assert.equal(topicText(topic, "en"), "Payment failed");
  assert.equal(topicText({ text: "Delivery" }, "zh-CN"), "Delivery");
});
