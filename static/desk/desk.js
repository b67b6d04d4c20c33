// The agent desk: one socket to /ws/agent, the agent's state, the ringing
// offer and the contact in progress. All of it is rebuilt from `welcome`
// (after a reload or a resync); room events then change it piece by piece.
import { errorText } from "../common/errors.js";
import { replace, setText } from "../common/dom.js";
import { icon, placeIcons } from "../common/icons.js";
import { label } from "../common/format.js";
import { awayReason } from "./statebar.js";
import { dispositionName, queueName } from "../common/staff-language.js";
import { queueTitle } from "./customer.js";
import { t } from "./i18n.js";
import { HubSocket, wsUrl } from "../common/socket.js";
import { toast } from "../common/toast.js";
import { ContactView } from "./contact.js";
import { OfferCard } from "./offer.js";
import { Ringer } from "./ring.js";
import { StateBar } from "./statebar.js";
import { CobrowsePanel } from "./cobrowse.js";
import { DocumentsPanel } from "./documents.js";
import { DeskVoice, trunkWarning } from "./voice.js";

const SOUND_KEY = "otodesk.desk.sound";
const root = document.querySelector(".desk");
placeIcons(document);
const $ = (selector) => document.querySelector(selector);

const desk = {
  agent: null,
  status: { state: "offline", reason: "", since: null },
  offer: null,
  contact: null,
  dispositions: [],
  queues: [],
  connected: false,
  welcomed: false,
};

const socket = new HubSocket(wsUrl("/ws/agent"));
// Co-browse listens to this socket itself (static/desk/cobrowse.js).
const cobrowsePanel = new CobrowsePanel(socket, document.querySelector("[data-cobrowse-slot]"), { toast: (text) => toast(text, { kind: "error", seconds: 8 }) });
const documentsPanel = new DocumentsPanel(socket, document.querySelector("[data-documents-slot]"), { cobrowse: cobrowsePanel, toast: (text) => toast(text, { kind: "error", seconds: 8 }) });
// Voice listens to this socket itself (static/desk/voice.js).
const deskVoice = new DeskVoice({ socket, root: document.querySelector(".desk") });
const now = () => socket.serverNow();
const ringer = new Ringer();

const stateBar = new StateBar(root, {
  now,
  setState: (state, reason) => command("set_state", { state, reason }),
});

const feedback = (fields) => command("suggestion_feedback", fields, { quiet: true });

/** A suggestion's one-click push: its document, or its page (co-browse's "go to this page"). */
async function pushSuggestion(item) {
  const push = item.push;
  if (!push) return;
  if (push.kind === "document") {
    await documentsPanel.pushById(push.target, push.label);
  } else if (cobrowsePanel.state !== "sharing" || !cobrowsePanel.visitorId) {
    toast(t("desk.cobrowse_first"), { kind: "error", seconds: 8 });
  } else {
    const ack = await command("cobrowse_navigate", { visitor_id: cobrowsePanel.visitorId, url: push.target, title: push.label || "" });
    toast(t("desk.asked_to_go", { url: ack?.url || push.target }));
  }
}

const offerCard = new OfferCard({
  now,
  feedback,
  accept: (card) => command("accept", { offer_id: card.offer_id }),
  decline: (card) => command("decline", { offer_id: card.offer_id }),
});

const contactView = new ContactView({
  now,
  feedback,
  talked: (callbackId) => deskVoice.talked(callbackId),
  push: pushSuggestion,
  end: (card) => command("end", { callback_id: card.callback_id }),
  wrapUp: async (card, disposition, note, { timedOut = false, summary = "" } = {}) => {
    await command("wrap_up", { callback_id: card.callback_id, disposition, note, timed_out: timedOut, summary }, { quiet: true });
    // No event says "contact closed": the ack does (and agent_state follows).
    if (desk.contact?.callback_id === card.callback_id) {
      desk.contact = null;
      render();
    }
  },
});

const COMMANDS = {
  set_state: "command.set_state", accept: "command.accept", decline: "command.decline", end: "command.end", wrap_up: "command.wrap_up",
  cobrowse_navigate: "command.cobrowse_navigate", suggestion_feedback: "command.suggestion_feedback",
};

/** Send a command; errors become a toast (and are re-thrown for the caller). */
async function command(type, fields, { quiet = false } = {}) {
  try {
    return await socket.send(type, fields);
  } catch (error) {
    // The hub's message is English; the command is named in the desk's language.
    if (!quiet) toast(t("desk.command_failed", { command: COMMANDS[type] ? t(COMMANDS[type]) : label(type), error: errorText(t, error) }), { kind: "error", seconds: 8 });
    throw error;
  }
}

// -- rendering -----------------------------------------------------------------

const offerSlot = $("[data-offer-slot]");
const contactSlot = $("[data-contact-slot]");
const idle = $("[data-idle]");
const announce = $("[data-announce]");
const baseTitle = document.title;
let titleTimer = null;

function render() {
  stateBar.render(desk.status, { connected: desk.connected });

  if (desk.offer) {
    if (offerCard.card?.offer_id !== desk.offer.offer_id || !offerSlot.firstChild) {
      offerSlot.replaceChildren(offerCard.render(desk.offer, desk.queues));
      const focusIsFree = !document.activeElement || document.activeElement === document.body || root.querySelector(".statebar")?.contains(document.activeElement);
      if (focusIsFree) offerCard.focus();
      const name = desk.offer.customer?.name;
      setText(announce, name ? t("desk.announce", { name }) : t("desk.announce_unknown"));
    }
    ringer.start();
    flashTitle(desk.offer.customer?.name ? t("desk.flash", { name: desk.offer.customer.name }) : t("desk.flash_unknown"));
    notify(desk.offer);
  } else {
    offerSlot.replaceChildren();
    offerCard.card = null;
    offerCard.element = null;
    ringer.stop();
    flashTitle(null);
    notify(null);
  }

  if (desk.contact) {
    const element = contactView.render(desk.contact, {
      // The contact's queue's own outcomes (its card carries them), else the default list.
      queues: desk.queues, dispositions: desk.contact?.dispositions || desk.dispositions, agentStatus: desk.status,
      phoneDials: desk.phoneDials,
    });
    // Re-inserting the same element would drop the focus (the note being typed).
    if (contactSlot.firstChild !== element) contactSlot.replaceChildren(element);
  } else {
    contactSlot.replaceChildren();
    contactView.card = null;
    contactView.element = null;
  }

  idle.hidden = !!(desk.offer || desk.contact);
  if (!idle.hidden) renderIdle();
}

function renderIdle() {
  const state = desk.status.state;
  let title;
  let text;
  if (!desk.welcomed) {
    title = t("idle.connecting");
    text = t("idle.moment");
  } else if (state === "available") {
    title = t("idle.waiting");
    text = t("idle.waiting_text");
  } else if (state === "away") {
    title = desk.status.reason ? t("idle.away_reason", { reason: awayReason(desk.status.reason) }) : t("idle.away");
    text = t("idle.away_text");
  } else {
    title = t("idle.not_taking");
    text = t("idle.not_taking_text");
  }
  setText($("[data-idle-title]"), title);
  setText($("[data-idle-text]"), text);
  const skills = desk.agent?.skills || [];
  const served = skills.length ? skills.map((skill) => queueTitle(desk.queues, skill)) : desk.queues.map((q) => queueName(t, q));
  // The queues' titles are the centre's words.
  const queues = $("[data-idle-queues]");
  queues.translate = false;
  setText(queues, served.length ? t("idle.queues", { queues: served.join(", ") }) : "");
}

function flashTitle(text) {
  clearInterval(titleTimer);
  titleTimer = null;
  if (!text) {
    document.title = baseTitle;
    return;
  }
  let on = false;
  titleTimer = setInterval(() => {
    on = !on;
    document.title = on ? text : baseTitle;
  }, 1000);
  document.title = text;
}

// A system notification when an offer rings while the desk tab is hidden.
let notification = null;
function notify(offer) {
  if (!offer) {
    notification?.close();
    notification = null;
    return;
  }
  if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
  if (notification && notification.tag === offer.offer_id) return;
  notification?.close();
  const name = offer.customer?.name;
  const queue = offer.callback?.queue ? queueTitle(desk.queues, offer.callback.queue) : "";
  notification = new Notification(name ? t("desk.notification", { name }) : t("desk.notification_unknown"), {
    body: [queue, offer.callback?.topic].filter(Boolean).join(" · "),
    tag: offer.offer_id,
    requireInteraction: true,
  });
  notification.onclick = () => {
    window.focus();
    offerCard.focus();
  };
}

document.addEventListener("visibilitychange", () => {
  if (desk.offer) notify(desk.offer);
});

/** Apply a change of page to the offer or contact for that callback. */
function applyPage(card, message) {
  if (!card || card.callback_id !== message.callback_id) return null;
  const page = { url: message.url, title: message.title, at: message.at };
  const trail = card.trail || [];
  const newest = trail[0];
  const sameAsNewest = newest && newest.url === page.url && Math.abs((newest.at || 0) - (page.at || 0)) < 1;
  return { ...card, page, trail: sameAsNewest ? trail : [page, ...trail] };
}

// -- the hub's messages ----------------------------------------------------------

socket.on("welcome", (message) => {
  desk.welcomed = true;
  desk.agent = message.agent || desk.agent;
  desk.status = message.state || desk.status;
  desk.offer = message.offer || null;
  desk.contact = message.contact || null;
  desk.dispositions = message.dispositions || [];
  desk.queues = message.queues || [];
  // A SIP trunk dials phone callbacks (desk voice.js joins them); without one the agent dials by hand.
  desk.phoneDials = (message.voice?.phone?.trunk || "off") !== "off";
  showTrunk(message.voice?.phone);
  offerCard.card = null; // rebuild from the fresh state
  render();
});

// This process's trunk changed (sent to this socket only: docs/protocol.md, trunk_state).
socket.on("trunk_state", (message) => showTrunk(message));

function showTrunk(phone) {
  const banner = $("[data-trunk-warning]");
  const text = trunkWarning(phone);
  banner.dataset.state = phone?.trunk || "off";
  setText(banner, text);
  banner.hidden = !text;
}

// "You missed an offer" is true until the agent is back: then it goes.
let missedToast = null;

socket.on("agent_state", (message) => {
  const previous = desk.status.state;
  desk.status = message.state;
  if (desk.status.state !== "away") {
    missedToast?.remove();
    missedToast = null;
  }
  // Leaving wrap-up other than by Done is its timeout: save what was typed, then close.
  if (previous === "wrap_up" && desk.contact?.state === "wrap_up" && desk.status.state !== "wrap_up") saveTimedOutWrapUp();
  else if (desk.contact && !["busy", "wrap_up"].includes(desk.status.state)) desk.contact = null;
  if (previous !== desk.status.state && desk.status.state === "away" && previous === "reserved") {
    missedToast?.remove();
    missedToast = toast(t("desk.missed"), { kind: "error", seconds: 0 });
  }
  render();
});

async function saveTimedOutWrapUp() {
  const card = desk.contact;
  try {
    const disposition = await contactView.saveOnTimeout();
    toast(disposition ? t("desk.wrap_up_saved", { disposition: dispositionName(t, disposition) }) : t("desk.wrap_up_saved_none"), { seconds: 10 });
  } catch (error) {
    // invalid_state: a Done sent just before the time ran out was saved first.
    if (error.code !== "invalid_state") toast(t("desk.wrap_up_failed", { error: errorText(t, error) }), { kind: "error", seconds: 0 });
  }
  if (desk.contact === card) {
    desk.contact = null;
    render();
  }
}

socket.on("offer", (message) => {
  desk.offer = message.offer;
  render();
});

socket.on("offer_ended", (message) => {
  if (desk.offer && desk.offer.offer_id === message.offer_id) {
    const name = desk.offer.customer?.name;
    const phonedIn = desk.offer.callback?.channel === "phone_inbound";
    desk.offer = null;
    if (message.outcome === "timed_out") toast(name ? t("desk.offer_timed_out", { name }) : t("desk.offer_timed_out_unknown"), { kind: "error", seconds: 10 });
    // A caller on the line who is gone (hung up, or their line dropped with its server) withdraws the offer.
    else if (message.outcome === "withdrawn" && phonedIn) toast(t("voice.caller_hung_up"));
    else if (message.outcome === "withdrawn") toast(name ? t("desk.offer_withdrawn", { name }) : t("desk.offer_withdrawn_unknown"));
  }
  render();
});

socket.on("contact", (message) => {
  // A phoned-in caller whose line dropped with the server carrying it: no hang-up reached the voice panel.
  if (message.contact?.state === "wrap_up" && message.contact.ended_reason === "line_dropped"
    && desk.contact?.state !== "wrap_up") toast(t("voice.caller_hung_up"), { kind: "error", seconds: 10 });
  desk.contact = message.contact;
  if (desk.offer && desk.offer.callback_id === message.contact?.callback_id) desk.offer = null;
  render();
});

socket.on("customer_page", (message) => {
  const offer = applyPage(desk.offer, message);
  if (offer) {
    desk.offer = offer;
    offerCard.updatePage(offer);
  }
  const contact = applyPage(desk.contact, message);
  if (contact) {
    desk.contact = contact;
    contactView.updatePage(contact);
  }
});

socket.on("customer_context", (message) => {
  const follows = (card) => card && card.callback_id === message.callback_id;
  if (follows(desk.offer)) {
    desk.offer = { ...desk.offer, context: message.context };
    offerCard.updateContext(desk.offer);
  }
  if (follows(desk.contact)) {
    desk.contact = { ...desk.contact, context: message.context };
    contactView.updateContext(desk.contact);
  }
});

// The rules matched again for a contact (its page, cart or context changed).
socket.on("suggestions", (message) => {
  const follows = (card) => card && card.callback_id === message.callback_id;
  if (follows(desk.offer)) {
    desk.offer = { ...desk.offer, suggestions: message.suggestions };
    offerCard.updateSuggestions(desk.offer);
  }
  if (follows(desk.contact)) {
    desk.contact = { ...desk.contact, suggestions: message.suggestions };
    contactView.updateSuggestions(desk.contact);
  }
});

socket.onState((state, detail) => {
  desk.connected = state === "open";
  const indicator = $("[data-testid=connection]");
  indicator.dataset.state = state === "idle" ? "connecting" : state;
  const text = t({
    idle: "hub.connecting",
    connecting: "hub.connecting",
    open: "hub.connected",
    reconnecting: "hub.reconnecting",
    closed: detail.reason === "unauthorized" ? "desk.signed_out" : "desk.disconnected",
  }[state]);
  setText(indicator.querySelector("[data-connection-text]"), text);
  if (state === "closed" && detail.reason === "unauthorized") {
    toast(t("desk.session_ended"), { kind: "error", seconds: 0 });
    setTimeout(() => location.assign(`/login?next=${encodeURIComponent(location.pathname)}`), 1500);
  }
  render();
});

// -- sound --------------------------------------------------------------------

const soundButton = $("[data-sound]");
function setSound(on) {
  ringer.setMuted(!on);
  soundButton.setAttribute("aria-pressed", String(on));
  replace(soundButton, icon(on ? "bell" : "bell-off"), " ", t(on ? "desk.sound_on" : "desk.sound_off"));
  try {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch {
    /* fine */
  }
}
soundButton.addEventListener("click", () => {
  ringer.unlock();
  setSound(ringer.muted);
});
let soundPref = "on";
try {
  soundPref = localStorage.getItem(SOUND_KEY) || "on";
} catch {
  /* fine */
}
setSound(soundPref !== "off");

// Asked once, on the gesture that starts taking calls: offers can then show
// as system notifications while the agent works in another tab.
$("[data-available]").addEventListener("click", () => {
  if ("Notification" in window && Notification.permission === "default") Notification.requestPermission().catch(() => {});
});

// Browsers allow sound only after a gesture on the page: the first one unlocks it.
for (const type of ["pointerdown", "keydown"]) {
  window.addEventListener(type, () => ringer.unlock(), { capture: true, passive: true });
}

// -- clocks ---------------------------------------------------------------------

setInterval(() => {
  stateBar.tick();
  offerCard.tick();
  contactView.tick();
}, 250);
setInterval(() => {
  offerCard.refreshTimes();
  contactView.refreshTimes();
}, 30000);

socket.connect();
