// What the desk's timeline says about an event (static/desk/customer.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { documentText, eventText, phoneText, requestText, wrapUpText } from "../../static/desk/customer.js";

test("a pushed document is named, not just 'Document pushed'", () => {
  assert.equal(documentText({ kind: "document_pushed", data: { name: "plan.pdf", document_id: "d1" } }), "plan.pdf");
  assert.equal(documentText({ kind: "document_closed", data: { name: "plan.pdf" } }), "plan.pdf");
  assert.equal(documentText({ kind: "note", data: { name: "x" } }), "");
});

test("a wrap-up whose time ran out says so and keeps its note", () => {
  assert.equal(wrapUpText({ disposition: null, note: "Sent the manual", timed_out: true }), "wrap-up time ran out: Sent the manual");
  assert.equal(wrapUpText({ disposition: "Resolved", note: "ok" }), "Resolved: ok");
});

test("a dialled phone attempt says its result, a retry what it follows", () => {
  assert.equal(phoneText({ kind: "phone_attempt", data: { attempt: 1, number: "+442079460123", result: "busy", status: 486 } }),
    "Attempt 1 to +442079460123: busy (486)");
  assert.equal(phoneText({ kind: "phone_attempt", data: { attempt: 2, number: "+442079460123", result: "completed", status: 200, talked_s: 75 } }),
    "Attempt 2 to +442079460123: answered, talked 1:15");
  assert.equal(phoneText({ kind: "phone_retry", data: { attempt: 2, after: "no_answer" } }), "Attempt 2 booked after no answer");
  assert.equal(phoneText({ kind: "phone_dialled", data: { attempt: 1, number: "+442079460123" } }), "Attempt 1: dialling +442079460123");
});

test("a phone request shows the consent given; an attempt outside calling hours says it was not dialled", () => {
  assert.equal(requestText({ queue: "sales", topic: "Kettle", consent: { address: "203.0.113.7", text: "You may call me." } }),
    "sales · Kettle · agreed to be called (from 203.0.113.7): “You may call me.”");
  assert.equal(requestText({ queue: "sales", topic: "" }), "sales");
  assert.equal(phoneText({ kind: "phone_attempt", data: { attempt: 1, number: "+12125550123", result: "not_dialled", status: 0 } }),
    "Attempt 1 to +12125550123: not dialled, outside calling hours");
});

test("the customer's full timeline says each phone attempt's result and the retry it booked (issue 13)", () => {
  // Seen on a tour: the page listed "Phone attempt · Phone · <time>" and nothing of the result.
  assert.equal(eventText({ kind: "phone_attempt", data: { attempt: 1, number: "+442079460134", result: "no_answer", status: 0 } }),
    "Attempt 1 to +442079460134: no answer");
  assert.equal(eventText({ kind: "phone_retry", data: { attempt: 2, after: "busy" } }), "Attempt 2 booked after busy");
  assert.equal(eventText({ kind: "wrap_up", data: { disposition: "Resolved", note: "ok" } }), "Resolved: ok");
  assert.equal(eventText({ kind: "note", data: { note: "Called about a kettle" } }), "Called about a kettle");
});

