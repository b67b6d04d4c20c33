// The desk's warning while its process's SIP trunk fails (static/desk/voice.js trunkWarning): agents
// learned nothing of a trunk refusing its credentials until a call failed (a tour of issue 13).
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { installFakeDom } from "./fake_dom.mjs";

installFakeDom();

const { trunkWarning } = await import("../../static/desk/voice.js");

test("a failing trunk is said, with its reason", () => {
  assert.equal(trunkWarning({ trunk: "failed", error: "401 Unauthorized" }),
    "The phone line is failing (401 Unauthorized): phone calls can't be placed or received until it works again");
  assert.match(trunkWarning({ trunk: "failed", error: "" }), /^The phone line is failing: /);
  // Tried again after a failure: still failing until it registers.
  assert.match(trunkWarning({ trunk: "registering", error: "the registrar did not answer" }), /did not answer/);
});

test("a working trunk, the first registration and no trunk say nothing", () => {
  for (const trunk of ["registered", "static", "off"]) assert.equal(trunkWarning({ trunk, error: "" }), "");
  assert.equal(trunkWarning({ trunk: "registering", error: "" }), "");
  assert.equal(trunkWarning(undefined), "");
});
