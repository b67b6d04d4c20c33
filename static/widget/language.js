// The widget's language: which one, and its catalogue (only that one is fetched).
//
// Chosen from, first that we have: `data-locale` on the script tag or otodesk.setLocale()
// (the site knows its page's language), the contact centre's setting (OTODESK_WIDGET_LOCALE,
// in the welcome), the customer's browser (navigator.languages), else English.
//
// The catalogues are messages-<locale>.js beside this file, each fetched with import() when
// the panel or another part of the widget first needs words; the launcher's two strings are
// here for every language (FIRST_PAINT), so a page where nobody opens the widget fetches none.
import { firstMatch, matchLocale } from "../common/i18n.js";

export const LOCALES = ["en", "zh-CN", "zh-TW"];
export const DEFAULT_LOCALE = "en";

/** What the launcher says before any catalogue is there (all a page shows until it is opened). */
export const FIRST_PAINT = {
  en: { "launcher.call": "Call me", "launcher.label": "Call me: ask an agent to call you back" },
  "zh-CN": { "launcher.call": "回电给我", "launcher.label": "回电给我：请客服人员给您回电" },
  "zh-TW": { "launcher.call": "回電給我", "launcher.label": "回電給我：請客服人員給您回電" },
};

// One import() a language, with a plain path: the build makes each a file of its own. Each
// brings common/i18n.js's createMessages along (what formats), so the first load carries neither.
const CATALOGUES = {
  en: () => import("./messages-en.js"),
  "zh-CN": () => import("./messages-zh-CN.js"),
  "zh-TW": () => import("./messages-zh-TW.js"),
};

/** Until a catalogue is there: the launcher's words only (nothing else draws before one is). */
function firstPaint(locale) {
  return { locale, t: (key) => FIRST_PAINT[locale][key] ?? key };
}

export class WidgetLanguage {
  /**
   * @param {object} options
   * @param {string|null} [options.requested]  data-locale, or an early setLocale()
   * @param {string|null} [options.site]  the contact centre's setting, as last known
   * @param {readonly string[]} [options.browser]  the customer's languages, best first
   */
  constructor({ requested = null, site = null, browser = [] } = {}) {
    this.requested = matchLocale(requested, LOCALES);
    this.siteLocale = matchLocale(site, LOCALES);
    this.browserLocale = firstMatch(browser || [], LOCALES);
    this.listeners = new Set();
    this.catalogues = {}; // locale → Promise<module of messages-<locale>.js>
    this.messages = firstPaint(this.locale);
    // Stable functions to hand to the parts of the widget: always the current language's.
    this.t = (key, values) => this.messages.t(key, values);
    this.duration = (seconds) => this.messages.duration(seconds);
    this.dateTime = (at) => this.messages.dateTime(at);
    this.list = (items) => this.messages.list(items);
  }

  get locale() {
    return this.requested ?? this.siteLocale ?? this.browserLocale ?? DEFAULT_LOCALE;
  }

  /** The current language's catalogue, fetched once; resolves when `t` speaks it. */
  async load() {
    const locale = this.locale;
    this.catalogues[locale] ??= CATALOGUES[locale]().catch((error) => {
      delete this.catalogues[locale]; // a later call tries again
      console.warn(`otodesk: the ${locale} messages could not be loaded`, error);
      return locale === DEFAULT_LOCALE ? null : CATALOGUES[DEFAULT_LOCALE]().catch(() => null);
    });
    const module = await this.catalogues[locale];
    if (module && this.locale === locale && this.messages.catalogue !== module.default) {
      this.messages = { ...module.createMessages(locale, module.default, FIRST_PAINT[locale]), catalogue: module.default };
    }
    return this;
  }

  /** otodesk.setLocale(tag): the site's choice wins over everything else. Null: choose again. */
  async set(tag) {
    const locale = tag == null ? null : matchLocale(String(tag), LOCALES);
    if (tag != null && !locale) throw new RangeError(`otodesk.setLocale: "${tag}" is not one of ${LOCALES.join(", ")}`);
    await this._change(() => { this.requested = locale; });
  }

  /** The contact centre's setting, from the welcome (null: none). */
  async site(tag) {
    const locale = matchLocale(tag, LOCALES);
    if (locale === this.siteLocale) return;
    await this._change(() => { this.siteLocale = locale; });
  }

  async _change(apply) {
    const before = this.locale;
    apply();
    if (this.locale === before) return;
    const wanted = this.locale;
    await this.load(); // the words of the language before stay until the new ones are here
    if (this.locale !== wanted) return; // changed again meanwhile: that change tells
    for (const fn of this.listeners) fn(wanted);
  }

  /** `fn(locale)` after every change of language, once its catalogue is there. */
  onChange(fn) {
    this.listeners.add(fn);
  }
}
