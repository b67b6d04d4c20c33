// The staff pages' words for the server's refusals (static/common/errors.js): by code, in the
// page's language, the server's English only for a code the page does not know. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { createMessages } from "../../static/common/i18n.js";
import { ServerError, errorText, responseError } from "../../static/common/errors.js";
import english from "../../static/common/messages-en.js";
import chinese from "../../static/common/messages-zh-TW.js";

const en = createMessages("en", english).t;
const zh = createMessages("zh-TW", chinese).t;

test("a known code reads in the page's language, never the server's English", () => {
  const taken = responseError({ status: 409 }, { error: { code: "username_taken", message: "The username 'carol' is already taken" } });
  assert.ok(taken instanceof ServerError);
  assert.equal(errorText(zh, taken), chinese["server.username_taken"]);
  assert.equal(errorText(en, taken), english["server.username_taken"]);
  const hub = Object.assign(new Error("the customer is not sharing their page now"), { code: "invalid_state" });
  assert.equal(errorText(zh, hub), chinese["server.invalid_state"]);
});

test("an answer without a code says its status in our words, not 'http_404'", () => {
  const missing = responseError({ status: 404 }, {});
  assert.equal(errorText(zh, missing), "伺服器回傳了 404。");
  assert.equal(errorText(zh, responseError({ status: 502 }, {})), chinese["server.internal"]);
});

test("limits say how long to wait; an unknown code shows the server's text; the network its own words", () => {
  const limited = responseError({ status: 429 }, { error: { code: "rate_limited", message: "slow down", retry_after: 7 } });
  assert.equal(errorText(en, limited), "Too many requests at once; try again in 7 seconds.");
  assert.equal(errorText(zh, new ServerError("brand_new", "A new refusal.")), "A new refusal.");
  assert.equal(errorText(zh, new TypeError("Failed to fetch")), chinese["server.network"]);
});

test("the documents' upload answers {error: code, message}: worded by its code too", () => {
  const refused = responseError({ status: 415 }, { error: "unsupported_type", message: "only PNG, JPEG, WebP images and PDF documents" });
  assert.equal(refused.code, "unsupported_type");
  assert.equal(errorText(zh, refused), chinese["server.unsupported_type"]);
});

test("a refused input keeps the server's sentence (which field, what form): as it is in English, after a lead in Chinese", () => {
  const bad = responseError({ status: 422 }, { error: { code: "invalid", message: "accent must be #rrggbb, not 'teal'" } });
  assert.equal(errorText(en, bad), "accent must be #rrggbb, not 'teal'");
  assert.equal(errorText(zh, bad), chinese["server.invalid_detail"].replace("{message}", "accent must be #rrggbb, not 'teal'"));
  assert.equal(errorText(zh, responseError({ status: 422 }, { error: { code: "invalid" } })), chinese["server.invalid"]);
});

test("a refused receiver URL says why in the page's language when the server names the reason", () => {
  const scheme = responseError({ status: 422 }, { error: { code: "invalid_url", message: "url: only http and https receivers, not 'ftp'", detail: { reason: "scheme" } } });
  assert.equal(errorText(zh, scheme), chinese["server.url_scheme"]);
  assert.equal(errorText(en, scheme), english["server.url_scheme"]);
  const privateAddress = responseError({ status: 422 }, { error: { code: "invalid_url", message: "url: 10.0.0.1 is not a public address", detail: { reason: "private" } } });
  assert.doesNotMatch(errorText(zh, privateAddress), /[A-Za-z]{3,}/);
  // An older server without the reason: its sentence after the lead, as before.
  const bare = responseError({ status: 422 }, { error: { code: "invalid_url", message: "url: the URL has no host" } });
  assert.equal(errorText(zh, bare), chinese["server.invalid_detail"].replace("{message}", "url: the URL has no host"));
});
