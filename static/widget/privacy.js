// What the co-browse recorder hides, decided on the customer's device before
// anything is sent. Private by default:
// - every input value is masked (rrweb maskAllInputs + maskInput below);
// - password and payment-card fields are ALWAYS masked, whatever the site marks,
//   and so is any value that looks like a card number (Luhn-valid, 13-19 digits),
//   in a field or in the page's text;
// - the site may block whole elements ([data-otodesk-private], or its own
//   selectors) and mask their text ([data-otodesk-mask]), and may unmask fields
//   it knows are safe ([data-otodesk-unmask], e.g. a promo code or a search box).
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
  if (unmask && closest(element, unmask) && !closest(element, MASK_SELECTOR)) return maskCardsInText(text);
  return stars(text);
}

/** rrweb maskTextFn (called for every text node): masked areas, and card numbers anywhere. */
export function maskText(text, element, { mask = MASK_SELECTOR } = {}) {
  if (!text) return text;
  if (closest(element, mask, true)) return String(text).replace(/\S/g, "*");
  return maskCardsInText(text);
}
