// What the co-browse recorder hides, decided on the customer's device before
// anything is sent. Private by default:
// - every input value is masked (rrweb maskAllInputs + maskInput below);
// - password and payment-card fields are ALWAYS masked, whatever the site marks,
//   and so is any value that looks like a card number (Luhn-valid, 13-19 digits),
//   in a field or in the page's text;
// - the site may block whole elements ([data-otodesk-private], or its own
//   selectors) and mask their text ([data-otodesk-mask]), and may unmask fields
//   it knows are safe ([data-otodesk-unmask], e.g. a promo code or a search box);
//   even there, any run of 6 or more digits that could begin a card number (2-6,
//   the first digit of every card network) is masked, so a card typed key by key
//   never goes out in clear;
// - page URLs lose the values of query parameters that carry searches, personal
//   details or secrets (maskUrl; the server's OTODESK_URL_QUERY setting).
// Pure functions of (text, element): tested in tests/js/privacy.test.mjs.

export const BLOCK_SELECTOR = "[data-otodesk-private], [data-otodesk]";
export const MASK_SELECTOR = "[data-otodesk-mask]";
export const UNMASK_SELECTOR = "[data-otodesk-unmask]";

const CARD_NAME = /(^|[^a-z])(cc|card|cvc|cvv|csc|pan|iban|pin|pass|pwd|ssn|secret|security)/i;

/** True when `digits` (13-19 digits, spaces/dashes allowed) passes the Luhn check. */
export function looksLikeCard(text) {
  const digits = String(text || "").replace(/[\s-]/g, "");
  if (!/^\d{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Card-number-looking runs in free text replaced by asterisks. */
export function maskCardsInText(text) {
  return String(text).replace(/\d[\d\s-]{11,22}\d/g, (run) => (looksLikeCard(run) ? run.replace(/\d/g, "*") : run));
}

/**
 * Digit runs (spaces or dashes between digits allowed) of 6 digits or more that start
 * like a card number (2-6) replaced by asterisks: what a site-unmasked field may show.
 * Six digits are already a card's issuer number; fewer tell nothing.
 */
export function maskCardPrefixes(text) {
  return String(text).replace(/\d(?:[\s-]?\d)+/g, (run) => {
    const digits = run.replace(/\D/g, "");
    return digits.length >= 6 && /^[2-6]/.test(digits) ? run.replace(/\d/g, "*") : run;
  });
}

/**
 * A page URL as the agent may see it: `query` "mask" (values of `params` become ***),
 * "strip" (no query string) or "keep". The same rule as desktop/customers/url_privacy.py.
 */
export function maskUrl(url, { query = "mask", params = [] } = {}) {
  const text = String(url || "");
  const at = text.indexOf("?");
  if (query === "keep" || at < 0) return text;
  const hashAt = text.indexOf("#", at);
  const search = text.slice(at + 1, hashAt < 0 ? undefined : hashAt);
  const fragment = hashAt < 0 ? "" : text.slice(hashAt);
  if (query === "strip") return text.slice(0, at) + fragment;
  const names = new Set(params.map((name) => String(name).toLowerCase()));
  const decode = (name) => {
    try {
      return decodeURIComponent(name.replace(/\+/g, " "));
    } catch {
      return name;
    }
  };
  const pairs = search.split("&").map((pair) => {
    const eq = pair.indexOf("=");
    if (eq < 0 || eq === pair.length - 1) return pair;
    const name = pair.slice(0, eq);
    return names.has(decode(name).trim().toLowerCase()) ? `${name}=***` : pair;
  });
  return `${text.slice(0, at)}?${pairs.join("&")}${fragment}`;
}

const URL_ATTRIBUTES = ["href", "src", "action", "formaction", "poster", "cite"];

/**
 * An rrweb event with every URL in it masked as maskUrl does, in place: the page's address
 * (Meta), and the URL attributes of the nodes it carries (a full snapshot, added nodes,
 * changed attributes). rrweb writes links as absolute URLs: `href="#main"` carries the
 * page's whole query. Returns the event.
 */
export function maskEventUrls(event, options = {}) {
  if (!event?.data || options.query === "keep") return event;
  const fix = (attributes) => {
    if (!attributes) return;
    for (const name of URL_ATTRIBUTES) {
      const value = attributes[name];
      if (typeof value === "string" && value.includes("?")) attributes[name] = maskUrl(value, options);
    }
  };
  const walk = (root) => {
    for (const stack = root ? [root] : []; stack.length;) {
      const node = stack.pop();
      fix(node.attributes);
      if (node.childNodes) stack.push(...node.childNodes);
    }
  };
  const { data } = event;
  if (event.type === 4 && typeof data.href === "string") data.href = maskUrl(data.href, options);
  else if (event.type === 2) walk(data.node);
  else if (event.type === 3 && data.source === 0) {
    for (const added of data.adds || []) walk(added.node);
    for (const changed of data.attributes || []) fix(changed.attributes);
  }
  return event;
}

function attr(element, name) {
  return (element && element.getAttribute && element.getAttribute(name)) || "";
}

/** Password and payment fields: never sent in clear, whatever the site says. */
export function alwaysPrivate(element) {
  if (!element) return true;
  const type = (element.type || attr(element, "type")).toLowerCase();
  if (type === "password" || element.hasAttribute?.("data-rr-is-password")) return true;
  const autocomplete = attr(element, "autocomplete").toLowerCase();
  if (/(^|\s)cc-|one-time-code|current-password|new-password/.test(autocomplete)) return true;
  return CARD_NAME.test(`${attr(element, "name")} ${element.id || ""}`);
}

/**
 * Whether `element` is inside `selector`, looking past shadow roots, slots and
 * same-origin frames: rrweb records all of them, and a masked component or
 * frame must hide its inside too (Element.closest stops at each boundary).
 * A selector that throws answers `onError`: true where that masks.
 */
function closest(element, selector, onError = false) {
  try {
    for (let at = element; selector && at; ) {
      if (at.closest?.(selector)) return true;
      // Light-DOM content shown through a <slot> sits, as rendered, inside the component's
      // shadow tree: a masked wrapper around the slot masks it.
      const slotted = slottedAncestor(at);
      if (slotted) {
        at = slotted.assignedSlot;
        continue;
      }
      const root = at.getRootNode?.();
      at = root?.host || root?.defaultView?.frameElement || null;
    }
    return false;
  } catch {
    return onError;
  }
}

function slottedAncestor(element) {
  for (let at = element; at; at = at.parentElement) {
    if (at.assignedSlot) return at;
  }
  return null;
}

/** `selector`, or `fallback` when the site's selector is not valid CSS (the defaults still apply). */
export function validSelector(selector, fallback) {
  try {
    document.createDocumentFragment().querySelector(selector);
    return selector;
  } catch {
    return fallback;
  }
}

const stars = (text) => "*".repeat(Math.min(String(text).length, 32));

/** rrweb maskInputFn: what the agent sees of a field's value. */
export function maskInput(text, element, { unmask = UNMASK_SELECTOR } = {}) {
  if (!text) return "";
  if (alwaysPrivate(element) || looksLikeCard(text)) return stars(text);
  if (unmask && closest(element, unmask) && !closest(element, MASK_SELECTOR)) return maskCardPrefixes(text);
  return stars(text);
}

/** rrweb maskTextFn (called for every text node): masked areas, and card numbers anywhere. */
export function maskText(text, element, { mask = MASK_SELECTOR } = {}) {
  if (!text) return text;
  if (closest(element, mask, true)) return String(text).replace(/\S/g, "*");
  return maskCardsInText(text);
}
