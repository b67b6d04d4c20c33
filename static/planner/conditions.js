// Showing where a condition is wrong: the message, and the text with the spot marked.
import { h, replace } from "../common/dom.js";
import { t } from "./i18n.js";

/** Show `error` ({line, column, position, message}) for `text` in `box`; clear it when null. */
export function showError(box, text, error) {
  if (!error) {
    box.hidden = true;
    replace(box);
    return;
  }
  const at = Math.max(0, Math.min(error.position ?? 0, text.length));
  const before = text.slice(0, at);
  const spot = text.slice(at, at + 1) || " ";
  const after = text.slice(at + 1);
  box.hidden = false;
  replace(box,
    h("strong", {}, t("conditions.where", { line: error.line, column: error.column })), error.message,
    text ? h("pre", { class: "error-text", "aria-hidden": "true" },
      before, h("mark", { dataset: { testid: "error-mark" } }, spot), after) : null);
}
