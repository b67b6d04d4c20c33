// Unit tests of static/common/socket.js with an in-memory WebSocket.
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";

import { HubError, HubSocket, commandId, wsUrl } from "../../static/common/socket.js";

class FakeWebSocket {
  static instances = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    FakeWebSocket.instances.push(this);
  }

  // -- test side --
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(message) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  drop(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  messages(type) {
    return this.sent.map((text) => JSON.parse(text)).filter((message) => !type || message.type === type);
  }

  // -- browser side --
  send(text) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(text);
  }

  close(code, reason) {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }
}

const latest = () => FakeWebSocket.instances.at(-1);
const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

function makeSocket(options = {}) {
  return new HubSocket("ws://hub.test/ws/agent", {
    WebSocket: FakeWebSocket,
    minDelay: 1,
    maxDelay: 4,
    pingInterval: 1e6,
    ...options,
  });
}

let socket;
beforeEach(() => {
  FakeWebSocket.instances = [];
});
afterEach(() => {
  socket?.close();
});

test("sends hello first, with last_seq and the extra fields", () => {
  socket = makeSocket({ hello: () => ({ token: "t1", url: "https://shop.test/" }) });
  socket.connect();
  latest().open();
  assert.deepEqual(latest().messages(), [{ type: "hello", last_seq: null, token: "t1", url: "https://shop.test/" }]);
});

test("welcome sets the seq and the clock offset, and reports open", () => {
  socket = makeSocket();
  const states = [];
  socket.onState((state) => states.push(state));
  socket.connect();
  latest().open();
  const serverNow = Date.now() / 1000 + 100;
  latest().receive({ type: "welcome", seq: 7, now: serverNow });
  assert.equal(socket.lastSeq, 7);
  assert.ok(Math.abs(socket.serverNow() - serverNow) < 1);
  assert.deepEqual(states, ["idle", "connecting", "open"]);
});

test("room events advance lastSeq; duplicates from a replay are dropped", () => {
  socket = makeSocket();
  const seen = [];
  socket.on("offer", (message) => seen.push(message.seq));
  socket.connect();
  latest().open();
  latest().receive({ type: "welcome", seq: 3 });
  latest().receive({ type: "offer", seq: 4 });
  latest().receive({ type: "offer", seq: 4 });
  latest().receive({ type: "offer", seq: 2 });
  assert.deepEqual(seen, [4]);
  assert.equal(socket.lastSeq, 4);
});

test("reconnects with last_seq after a drop, and resumes", async () => {
  socket = makeSocket();
  const seen = [];
  socket.on("agent_state", (message) => seen.push(message.seq));
  socket.connect();
  latest().open();
  latest().receive({ type: "welcome", seq: 10 });
  latest().drop();
  assert.equal(socket.state, "reconnecting");
  await tick(10);
  assert.equal(FakeWebSocket.instances.length, 2);
  latest().open();
  assert.deepEqual(latest().messages("hello")[0].last_seq, 10);
  latest().receive({ type: "resumed", seq: 12 });
  latest().receive({ type: "agent_state", seq: 11 });
  latest().receive({ type: "agent_state", seq: 12 });
  assert.deepEqual(seen, [11, 12]);
  assert.equal(socket.state, "open");
});

test("a command resolves with its ack", async () => {
  socket = makeSocket();
  socket.connect();
  latest().open();
  latest().receive({ type: "welcome", seq: 0 });
  const promise = socket.send("accept", { offer_id: "o1" });
  const [sent] = latest().messages("accept");
  assert.equal(sent.offer_id, "o1");
  assert.match(sent.id, /^[A-Za-z0-9_.:-]{1,64}$/);
  latest().receive({ type: "ack", id: sent.id, callback_id: "cb1" });
  const ack = await promise;
  assert.equal(ack.callback_id, "cb1");
});

test("a command rejects with the matching error", async () => {
  socket = makeSocket();
  socket.connect();
  latest().open();
  latest().receive({ type: "welcome", seq: 0 });
  const promise = socket.send("call_me", { name: "Ann", queue: "sales", channel: "phone", phone: "12" });
  const [sent] = latest().messages("call_me");
  latest().receive({ type: "error", id: sent.id, code: "invalid_phone", message: "too short" });
  await assert.rejects(promise, (error) => error instanceof HubError && error.code === "invalid_phone" && error.message === "too short" && error.type === "call_me");
});

test("an unanswered command is sent again with the same id after a reconnect", async () => {
  socket = makeSocket();
  socket.connect();
  latest().open();
  latest().receive({ type: "welcome", seq: 0 });
  const promise = socket.send("set_state", { state: "available" });
  const first = latest().messages("set_state")[0];
  latest().drop();
  await tick(10);
  latest().open();
  assert.deepEqual(latest().messages("set_state"), [], "nothing but hello before the server answers it");
  latest().receive({ type: "resumed", seq: 0 });
  const again = latest().messages("set_state")[0];
  assert.equal(again.id, first.id);
  latest().receive({ type: "ack", id: first.id });
  await promise;
});

test("commands and notifications made while offline wait for the welcome", () => {
  socket = makeSocket();
  socket.notify("set_context", { context: { a: 1 } });
  socket.dropQueued("set_context");
  socket.notify("set_context", { context: { a: 2 } });
  socket.send("cancel", { callback_id: "cb1" }).catch(() => {});
  socket.connect();
  latest().open();
  assert.deepEqual(latest().messages().map((m) => m.type), ["hello"]);
  latest().receive({ type: "welcome", seq: 0 });
  const types = latest().messages().map((m) => m.type);
  assert.deepEqual(types, ["hello", "set_context", "cancel", "ping"]);  // then a ping: the clock
  assert.deepEqual(latest().messages("set_context")[0].context, { a: 2 });
});

test("4401 stops reconnecting and rejects pending commands", async () => {
  socket = makeSocket();
  const states = [];
  socket.onState((state, detail) => states.push([state, detail.reason]));
  socket.connect();
  latest().open();
  const promise = socket.send("accept", { offer_id: "o1" });
  latest().drop(4401, "unauthorized");
  await assert.rejects(promise, (error) => error.code === "unauthorized");
  await tick(10);
  assert.equal(FakeWebSocket.instances.length, 1);
  assert.deepEqual(states.at(-1), ["closed", "unauthorized"]);
});

test("4408 (too slow) reconnects for a full resync", async () => {
  socket = makeSocket();
  socket.connect();
  latest().open();
  latest().receive({ type: "welcome", seq: 50 });
  latest().drop(4408, "too slow");
  await tick(10);
  latest().open();
  assert.equal(latest().messages("hello")[0].last_seq, null);
});

test("a missed ping answer forces a reconnect", async () => {
  socket = makeSocket({ pingInterval: 5, pongTimeout: 5 });
  socket.connect();
  latest().open();
  latest().receive({ type: "welcome", seq: 1 });
  await tick(30);
  assert.ok(FakeWebSocket.instances[0].messages("ping").length >= 1);
  assert.ok(FakeWebSocket.instances.length >= 2, "a new socket was opened");
});

test("pong keeps the connection and syncs the clock", async () => {
  socket = makeSocket({ pingInterval: 5, pongTimeout: 50 });
  socket.connect();
  const ws = latest();
  ws.open();
  ws.receive({ type: "welcome", seq: 1 });
  await tick(8);
  ws.receive({ type: "pong", at: Date.now() / 1000 - 30 });
  assert.ok(Math.abs(socket.serverNow() - (Date.now() / 1000 - 30)) < 1);
  assert.equal(FakeWebSocket.instances.length, 1);
});

test("a welcome that arrives late is corrected by the pong sent at once; a slower pong does not undo it", async () => {
  socket = makeSocket();
  socket.connect();
  const ws = latest();
  ws.open();
  ws.receive({ type: "welcome", seq: 1, now: Date.now() / 1000 - 3 }); // a process busy for 3 s
  assert.ok(Math.abs(socket.serverNow() - (Date.now() / 1000 - 3)) < 0.5);
  assert.equal(ws.messages("ping").length, 1); // sent with the welcome, not 20 s later
  ws.receive({ type: "pong", at: Date.now() / 1000 });
  assert.ok(Math.abs(socket.serverNow() - Date.now() / 1000) < 0.2);
  socket._ping();
  await tick(40);
  ws.receive({ type: "pong", at: Date.now() / 1000 - 5 }); // answered late: a longer round trip
  assert.ok(Math.abs(socket.serverNow() - Date.now() / 1000) < 0.2);
});

test("close() rejects pending commands and never reconnects", async () => {
  socket = makeSocket();
  socket.connect();
  latest().open();
  latest().receive({ type: "welcome", seq: 0 });
  const promise = socket.send("end", { callback_id: "cb" });
  socket.close();
  await assert.rejects(promise, (error) => error.code === "closed");
  await tick(10);
  assert.equal(FakeWebSocket.instances.length, 1);
});

test("helpers: wsUrl and commandId", () => {
  assert.equal(wsUrl("/ws/customer", "https://desk.example.com/shop/"), "wss://desk.example.com/ws/customer");
  assert.equal(wsUrl("/ws/agent", "http://127.0.0.1:8000/desk#x"), "ws://127.0.0.1:8000/ws/agent");
  const ids = new Set(Array.from({ length: 100 }, () => commandId("call_me")));
  assert.equal(ids.size, 100);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_.:-]{1,64}$/);
});

test("a resumed seq below ours (server lost its state) forces a full resync", async () => {
  socket = makeSocket();
  socket.connect();
  latest().open();
  latest().receive({ type: "welcome", seq: 40 });
  latest().drop();
  await tick(10);
  latest().open();
  latest().receive({ type: "resumed", seq: 3 });
  await tick(5);
  latest().open();
  assert.equal(latest().messages("hello")[0].last_seq, null);
});
