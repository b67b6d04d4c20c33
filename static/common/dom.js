// A tiny element builder, so views read as structure instead of string HTML
// (and text is never parsed as markup).
//
//   h("button", { class: "btn", dataset: { testid: "btn-end" }, onclick: end }, "End")

/**
 * Create an element. `attrs` keys: `class`, `text`, `dataset` (object),
 * `style` (object), `on<event>` (listener), booleans (true sets, false omits),
 * anything else as an attribute. Children: nodes, strings, numbers, arrays,
 * null/undefined/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "text") element.textContent = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "style" && typeof value === "object") Object.assign(element.style, value);
    else if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
    else if (key === "value" || key === "checked" || key === "selected") element[key] = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

/** Replace all children of `element` with `children`. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** Set text only when it changed (keeps screen readers and selections calm). */
export function setText(element, text) {
  const value = text ?? "";
  if (element.textContent !== value) element.textContent = value;
}

/** Find an element by its data-testid inside `root`. */
export function byTestId(root, id) {
  return root.querySelector(`[data-testid="${id}"]`);
}

/**
 * Enable the controls a page rendered disabled (`disabled data-until-ready`) until its script
 * had wired them: a click before that did nothing, and a form's button submitted natively.
 */
export function ready(root = document) {
  for (const control of root.querySelectorAll("[data-until-ready]")) {
    control.disabled = false;
    control.removeAttribute("data-until-ready");
  }
}
