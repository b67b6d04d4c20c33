// The admin console's centre settings: the widget's look (colour, corner, greeting per language),
// the sites that may embed it, and the urgent words per language. Each form saves through the
// REST API (api.js), which audits the change and has every process apply it at once.
import { setText } from "../common/dom.js";
import { errorText } from "../common/errors.js";
import { toast } from "../common/toast.js";
import { api } from "./api.js";
import { t } from "./i18n.js";

const LANGUAGES = ["en", "zh-CN", "zh-TW"];
const $ = (selector) => document.querySelector(selector);
const lines = (text) => text.split("\n").map((line) => line.trim()).filter(Boolean);
const changedEvent = () => document.dispatchEvent(new CustomEvent("otodesk:admin-changed"));

/** Save with `send`, show the server's reason (in the admin's words) under the form when it refuses. */
function saving(form, send, done) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = form.querySelector("[data-form-error]");
    setText(error, "");
    try {
      fill(form, await send(form));
      toast(t(done));
      changedEvent();
    } catch (failure) {
      setText(error, errorText(t, failure));
    }
  });
}

function fill(form, values) {
  if ("accent" in values) {
    form.accent.value = values.accent;
    form.accent_picker.value = values.accent;
    form.position.value = values.position;
    for (const language of LANGUAGES) form[`greeting_${language}`].value = values.greeting[language] || "";
  }
  if ("origins" in values) form.origins.value = values.origins.join("\n");
  if ("words" in values) for (const language of LANGUAGES) form[`words_${language}`].value = values.words[language].join("\n");
}

export async function startCentre() {
  const widget = $("[data-widget-form]");
  const sites = $("[data-sites-form]");
  const urgent = $("[data-urgent-form]");
  // The picker and the text field show one colour; the text one is what is sent (and checked).
  widget.accent_picker.addEventListener("input", () => { widget.accent.value = widget.accent_picker.value; });
  widget.accent.addEventListener("input", () => {
    if (/^#[0-9a-fA-F]{6}$/.test(widget.accent.value)) widget.accent_picker.value = widget.accent.value.toLowerCase();
  });
  saving(widget, (form) => api("PUT", "/widget", {
    accent: form.accent.value.trim(), position: form.position.value,
    greeting: Object.fromEntries(LANGUAGES.map((language) => [language, form[`greeting_${language}`].value.trim()])),
  }), "widget.saved");
  saving(sites, (form) => api("PUT", "/sites", { origins: lines(form.origins.value) }), "sites.saved");
  saving(urgent, (form) => api("PUT", "/urgent-words", {
    words: Object.fromEntries(LANGUAGES.map((language) => [language, lines(form[`words_${language}`].value)])),
  }), "urgent.saved");
  const [look, allowed, words] = await Promise.all([api("GET", "/widget"), api("GET", "/sites"), api("GET", "/urgent-words")]);
  fill(widget, look);
  fill(sites, allowed);
  fill(urgent, words);
  // Locked until the values arrived: typing would have been replaced, a save would have cleared them.
  for (const form of [widget, sites, urgent]) form.querySelector("fieldset[data-loading]").disabled = false;
}
