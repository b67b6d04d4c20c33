// Short messages in the corner of staff pages (`<div data-toasts>` in base.html).
import { h } from "./dom.js";

/** Show `text` for `seconds` (errors stay until closed when seconds is 0); returns the
 * toast element, for the caller to remove once it is no longer true. */
export function toast(text, { kind = "info", seconds = 6 } = {}) {
  const box = document.querySelector("[data-toasts]");
  if (!box) return;
  const item = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status", dataset: { testid: "toast" } },
    h("span", {}, text),
    // The label is the page's language (base.html's data-dismiss-label, translated with the page).
    h("button", { type: "button", "aria-label": box.dataset.dismissLabel || "Dismiss", onclick: () => item.remove() }, "×"));
  box.append(item);
  while (box.children.length > 4) box.firstElementChild.remove();
  if (seconds) setTimeout(() => item.remove(), seconds * 1000);
  return item;
}
