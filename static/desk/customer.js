// What the agent sees about a customer, shared by the offer card and the
// contact view: who it is, the page they are on now, the pages they visited,
// what the site told us (the cart…) and their previous contacts.
//
// Everything here comes from a stranger's browser: text goes in with
// textContent (h() never parses markup) and only http(s) URLs become links.
import { h, replace } from "../common/dom.js";
import { ago, clock, dateTime, label, money, shortUrl, timeOfDay } from "../common/format.js";
import { icon } from "../common/icons.js";

const TRAIL_SHOWN = 12;
const PREVIOUS_SHOWN = 5;

/** A link when `url` is http(s), plain text otherwise. */
export function safeLink(url, text, attrs = {}) {
  let safe = false;
  try {
    safe = ["http:", "https:"].includes(new URL(url).protocol);
  } catch {
    safe = false;
  }
  return safe
    ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", ...attrs }, text)
    : h("span", attrs, text);
}

export function queueTitle(queues, name) {
  return queues.find((queue) => queue.name === name)?.title ?? label(name);
}

export function channelText(channel) {
  if (channel === "phone_inbound") return [icon("phone"), " Phoned in"];
  return channel === "phone" ? [icon("smartphone"), " Call their phone"] : [icon("globe"), " Voice in their browser"];
}

/** How an inbound caller's number matched the records (Card.callback.caller); "" when not inbound. */
const CALLER_MATCH = { verified: "verified number", claimed: "number on their record",
  ambiguous: "number shared by several customers: check who it is", new: "a number we don't know", withheld: "number withheld" };

/** The name to show: the customer's, else "Unknown caller" (phoned in) or "Unknown customer". */
export function displayName(card) {
  const name = card.customer?.name;
  if (card.callback?.channel !== "phone_inbound") return name || "Unknown customer";
  const known = ["verified", "claimed"].includes(card.callback?.caller);
  return known && name ? name : "Unknown caller";
}

/** The customer's name, tier badge and the facts of the request, as a <dl>. */
export function facts(card, prefix, queues) {
  const customer = card.customer || {};
  const callback = card.callback || {};
  const phone = customer.phone || callback.phone;
  const rows = [
    ["Phone", phone ? h("a", { href: `tel:${phone}` }, phone) : h("span", { class: "muted" }, "—"), "phone"],
    ["Channel", channelText(callback.channel), "channel"],
    callback.caller ? ["Caller", CALLER_MATCH[callback.caller] || callback.caller, "caller"] : null,
    ["Queue", queueTitle(queues, callback.queue), "queue"],
    ["Topic", callback.topic || h("span", { class: "muted" }, "—"), "topic"],
    callback.message ? ["Message", h("q", {}, callback.message), "message"] : null,
    customer.email ? ["E-mail", customer.email, "email"] : null,
    callback.scheduled_at ? ["Scheduled", dateTime(callback.scheduled_at), "scheduled"] : null,
    // The whole record (timeline, notes, outside contacts) opens beside the call.
    customer.id ? ["Record", h("a", { href: `/desk/customers/${encodeURIComponent(customer.id)}`, target: "_blank", dataset: { testid: `${prefix}-timeline-link` } }, "Full timeline ↗"), "record"] : null,
  ].filter(Boolean);
  return h("dl", { class: "facts" }, rows.map(([term, value, key]) => h("div", {},
    h("dt", {}, term),
    h("dd", { dataset: { testid: `${prefix}-${key}` } }, value))));
}

export function tierBadge(tier, prefix) {
  const value = tier ? String(tier) : "standard";
  return h("span", { class: "badge", dataset: { tier: value.toLowerCase(), testid: `${prefix}-tier` }, title: "Customer value tier" }, label(value));
}

/** The live sections: page now, trail, context, previous contacts. */
export class CustomerDetails {
  constructor(prefix) {
    this.prefix = prefix;
    this.page = h("div", { class: "page-now", dataset: { testid: `${prefix}-page` } });
    this.trail = h("ol", { class: "trail", dataset: { testid: `${prefix}-trail` } });
    this.context = h("div", { class: "context", dataset: { testid: `${prefix}-context` } });
    this.previous = h("ol", { class: "previous", dataset: { testid: `${prefix}-previous` } });
    this.element = h("div", { class: "customer-details" },
      h("section", { class: "detail-block wide" }, h("h3", {}, "On the page now"), this.page),
      h("section", { class: "detail-block" }, h("h3", {}, "Pages visited"), this.trail),
      h("section", { class: "detail-block" }, h("h3", {}, "From the site"), this.context),
      h("section", { class: "detail-block wide" }, h("h3", {}, "Previous contacts"), this.previous));
  }

  /** Render everything from `card`; `now` is the server's clock (s). */
  update(card, now) {
    this.renderPage(card.page, now);
    this.renderTrail(card.trail || [], now);
    this.renderContext(card.context || {});
    this.renderPrevious(card.previous || [], now, card.open_issues || []);
  }

  renderPage(page, now) {
    if (!page || !page.url) {
      replace(this.page, h("p", { class: "muted" }, "Not on the site right now."));
      return;
    }
    replace(this.page,
      h("p", { class: "page-title" }, safeLink(page.url, page.title || shortUrl(page.url))),
      h("p", { class: "page-url muted" }, shortUrl(page.url), page.at ? ` · since ${timeOfDay(page.at)} (${ago(page.at, now)})` : ""));
  }

  renderTrail(trail, now) {
    if (!trail.length) {
      replace(this.trail, h("li", { class: "muted empty" }, "No pages recorded."));
      return;
    }
    const shown = trail.slice(0, TRAIL_SHOWN);
    replace(this.trail,
      shown.map((entry) => h("li", {},
        h("time", { datetime: new Date((entry.at || 0) * 1000).toISOString(), title: ago(entry.at, now) }, timeOfDay(entry.at)),
        h("span", { class: "trail-text" },
          safeLink(entry.url, entry.title || shortUrl(entry.url)),
          h("small", { class: "muted" }, shortUrl(entry.url))))),
      trail.length > shown.length ? h("li", { class: "muted more" }, `+ ${trail.length - shown.length} earlier pages`) : null);
  }

  renderContext(context) {
    const entries = Object.entries(context);
    if (!entries.length) {
      replace(this.context, h("p", { class: "muted" }, "Nothing yet."));
      return;
    }
    const currency = typeof context.currency === "string" && /^[A-Z]{3}$/.test(context.currency) ? context.currency : "USD";
    const blocks = [];
    const rows = [];
    for (const [key, value] of entries) {
      if (key === "currency") continue;
      if (Array.isArray(value) && value.length && value.every((item) => item && typeof item === "object" && !Array.isArray(item))) {
        blocks.push(h("div", { class: "context-table" }, h("p", { class: "context-key" }, label(key)), objectTable(key, value, currency)));
      } else {
        rows.push([label(key), contextValue(key, value, currency)]);
      }
    }
    replace(this.context,
      rows.length ? h("dl", { class: "kv" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])) : null,
      blocks);
  }

  renderPrevious(previous, now, openIssues = []) {
    // What is still open comes first: the customer should not have to repeat it.
    const open = openIssues.length
      ? h("li", { class: "open-issues", dataset: { testid: "open-issues" } },
        h("strong", {}, `Open (${openIssues.length}): `),
        openIssues.map((issue, i) => [i ? " · " : "", `${issue.disposition}${issue.note ? ` — ${issue.note}` : ""} (${ago(issue.at, now)})`]))
      : null;
    if (!previous.length) {
      replace(this.previous, h("li", { class: "muted empty" }, "First contact: no history yet."));
      return;
    }
    const shown = previous.slice(0, PREVIOUS_SHOWN);
    replace(this.previous, open,
      shown.map((item) => h("li", { dataset: { kind: item.kind || "" } },
        h("span", { class: "kind-icon", "aria-hidden": "true" }, icon(KIND_ICONS[item.kind] || "dot")),
        h("div", {},
          h("p", { class: "previous-head" },
            h("strong", {}, label(item.kind || "contact")),
            item.channel ? ` · ${label(item.channel)}` : "",
            h("span", { class: "muted" }, ` · ${ago(item.at, now)}`)),
          item.kind === "recording_consent" ? h("p", { class: "previous-summary" }, consentText(item.data))
            : item.kind === "voice_call" ? h("p", { class: "previous-summary" }, callText(item.data))
            : ["phone_attempt", "phone_retry", "phone_dialled"].includes(item.kind) ? h("p", { class: "previous-summary" }, phoneText(item))
              : documentText(item) ? h("p", { class: "previous-summary" }, documentText(item))
                : summary(item.data),
          recordingPlayer(item)))),
      previous.length > shown.length ? h("li", { class: "muted more" }, `+ ${previous.length - shown.length} older contacts`) : null);
  }
}

/** Icon names (common/icons.js) by timeline event kind; any other kind gets a dot. */
const KIND_ICONS = {
  callback_requested: "phone", callback_connected: "headphones", callback_completed: "check-circle", callback_cancelled: "x-circle",
  callback_abandoned: "hourglass", call_recording: "mic", recording_consent: "mic", voice_call: "headphones", wrap_up: "note", note: "note",
  call: "phone", inbound_call: "phone", phone_attempt: "phone", phone_retry: "hourglass", phone_dialled: "phone", email: "mail", chat: "chat", store_visit: "store", meeting: "people", page_view: "page",
  search: "search", order: "receipt", suggestion_accepted: "check-circle", suggestion_declined: "x-circle",
};

/** A `voice_call` event (desktop/voice/feature.py): how long they talked, and whether it was recorded. */
export function callText(data) {
  return data?.seconds == null ? "" : `Talked ${clock(data.seconds)}${data.recorded ? " · recorded" : ""}`;
}

const PHONE_RESULTS = { completed: "answered", busy: "busy", no_answer: "no answer", rejected: "declined",
  failed: "failed", cancelled: "cancelled", refused: "not dialled (server at its phone call limit)",
  not_dialled: "not dialled, outside calling hours" };

/** A `phone_attempt` or `phone_retry` event (desktop/voice/phone.py): a dialled attempt and its SIP result. */
export function phoneText(event) {
  const d = event.data || {};
  if (event.kind === "phone_retry") return `Attempt ${d.attempt} booked after ${PHONE_RESULTS[d.after] || d.after}`;
  if (event.kind === "phone_dialled") return `Attempt ${d.attempt || 1}: dialling ${d.number}`;
  const result = PHONE_RESULTS[d.result] || d.result || "";
  const status = d.status && d.result !== "completed" ? ` (${d.status})` : "";
  const talked = d.result === "completed" && d.talked_s != null ? `, talked ${clock(d.talked_s)}` : "";
  return `Attempt ${d.attempt || 1} to ${d.number}: ${result}${status}${talked}`;
}

/** A `callback_requested` event: the queue, the topic, and for a phone the consent the customer gave. */
export function requestText(data) {
  const consent = data?.consent;
  return [data?.queue, data?.topic, consent ? `agreed to be called (from ${consent.address || "?"}): “${consent.text}”` : ""]
    .filter(Boolean).join(" · ");
}

/** A `call_recording` event plays right where it is listed; any other event: null. */
export function recordingPlayer(event) {
  if (event.kind !== "call_recording" || !event.data?.url) return null;
  return h("audio", { controls: true, preload: "none", src: event.data.url, dataset: { testid: "recording-player" },
    // Retention or erasure may have deleted the file since: say so rather than a dead player.
    onerror: (error) => error.target.replaceWith(h("p", { class: "muted", text: "Recording no longer kept" })) });
}

/** A `document_pushed` / `document_closed` event (desktop/cobrowse/viewer.py): which document. */
export function documentText(event) {
  return event.kind?.startsWith("document_") && event.data?.name ? event.data.name : "";
}

/** A `wrap_up` event: outcome and note, and whether its time ran out first. */
export function wrapUpText(data) {
  return [data?.disposition, data?.timed_out ? "wrap-up time ran out" : "", data?.note].filter(Boolean).join(": ");
}

/** A `recording_consent` event (desktop/voice/feature.py): the customer's answer to "may we record?". */
export function consentText(data) {
  return data?.given ? "Agreed to recording" : "Declined recording";
}

const SUMMARY_KEYS = ["disposition", "summary", "topic", "note", "message", "outcome", "subject", "title", "reason", "url"];

function summary(data) {
  if (!data || typeof data !== "object") return null;
  if (data.timed_out) return h("p", { class: "previous-summary" }, wrapUpText(data));
  const parts = SUMMARY_KEYS.filter((key) => data[key] !== undefined && data[key] !== null && data[key] !== "")
    .slice(0, 3)
    .map((key) => h("span", {}, h("span", { class: "muted" }, `${label(key)}: `), short(data[key], 140)));
  return parts.length ? h("p", { class: "previous-summary" }, parts.flatMap((part, i) => (i ? [" · ", part] : [part]))) : null;
}

function short(value, max = 80) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function isMoneyKey(key) {
  return /(^|_)(total|price|amount|subtotal|value)$/i.test(key);
}

function contextValue(key, value, currency) {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "—");
  if (typeof value === "number" && isMoneyKey(key)) return money(value, currency);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value) && !value.length) return h("span", { class: "muted" }, "empty");
  if (Array.isArray(value) && value.every((item) => item === null || typeof item !== "object")) return short(value.join(", "), 200);
  if (typeof value === "string" && /^https?:\/\//.test(value)) return safeLink(value, shortUrl(value));
  if (typeof value === "object") return h("code", {}, short(value, 200));
  return short(value, 200);
}

/** A list of objects (a cart…) as a table; name/qty/price columns get special care. */
function objectTable(key, items, currency) {
  const columns = [];
  for (const item of items.slice(0, 30)) {
    for (const column of Object.keys(item)) if (!columns.includes(column) && column !== "slug" && column !== "id") columns.push(column);
  }
  const qtyKey = columns.find((column) => /^(qty|quantity|count)$/i.test(column));
  const priceKey = columns.find((column) => /^(price|unit_price)$/i.test(column));
  const showLineTotal = qtyKey && priceKey;
  return h("table", { class: "mini", dataset: { testid: `context-${key}` } },
    h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col" }, label(column))), showLineTotal ? h("th", { scope: "col" }, "Line") : null)),
    h("tbody", {}, items.slice(0, 30).map((item) => h("tr", {},
      columns.map((column) => h("td", {}, contextValue(column, item[column], currency))),
      showLineTotal ? h("td", {}, money(Number(item[qtyKey]) * Number(item[priceKey]), currency)) : null))));
}
