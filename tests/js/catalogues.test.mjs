// The widget's message catalogues (static/widget/messages-<locale>.js) against the English
// one and against the code: every language has exactly the English keys, with the same
// placeholders and plural selectors; every key the widget's code names exists, and every key
// of the catalogue is named somewhere in the code. Run: node --test tests/js/
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { FIRST_PAINT, LOCALES } from "../../static/widget/language.js";

const here = new URL("../../static/", import.meta.url);
const catalogues = Object.fromEntries(await Promise.all(LOCALES.map(async (locale) =>
  [locale, (await import(new URL(`widget/messages-${locale}.js`, here))).default])));
const english = catalogues.en;

/** Latin words a Chinese message may keep: key names, formats. */
const LATIN_ALLOWED = new Set(["Esc", "JSON"]);

function forms(message) {
  return typeof message === "string" ? [message] : Object.entries(message).filter(([k]) => !k.startsWith("$")).map(([, v]) => v);
}

function placeholders(message) {
  return [...new Set(forms(message).flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))].sort();
}

/** Every quoted "namespace.key" in the widget's sources (not the catalogues), with where. */
function keysInCode(namespaces) {
  const found = new Map();
  for (const dir of ["widget", "common"]) {
    for (const name of readdirSync(new URL(dir, here)).filter((n) => n.endsWith(".js") && !n.startsWith("messages-"))) {
      // Comments may quote code (`form.action`): only the code counts.
      const source = readFileSync(new URL(`${dir}/${name}`, here), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
      for (const match of source.matchAll(/["'`]([a-z]+(?:\.[a-z_]+)+)["'`]/g)) {
        if (namespaces.has(match[1].split(".")[0])) found.set(match[1], `${dir}/${name}`);
      }
    }
  }
  return found;
}

test("every language has exactly the English keys", () => {
  for (const locale of LOCALES) {
    const keys = Object.keys(catalogues[locale]).sort();
    const missing = Object.keys(english).filter((key) => !(key in catalogues[locale]));
    const extra = keys.filter((key) => !(key in english));
    assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, locale);
    assert.deepEqual(Object.keys(FIRST_PAINT[locale]).sort(), Object.keys(FIRST_PAINT.en).sort(), `FIRST_PAINT ${locale}`);
  }
});

test("translations keep the placeholders and plural selectors, and use their language's categories", () => {
  for (const locale of LOCALES) {
    const categories = {
      $plural: new Intl.PluralRules(locale).resolvedOptions().pluralCategories,
      $ordinal: new Intl.PluralRules(locale, { type: "ordinal" }).resolvedOptions().pluralCategories,
    };
    for (const [key, message] of Object.entries({ ...catalogues[locale], ...FIRST_PAINT[locale] })) {
      const original = english[key] ?? FIRST_PAINT.en[key];
      assert.deepEqual(placeholders(message), placeholders(original), `${locale} ${key}: placeholders`);
      assert.equal(typeof message, typeof original, `${locale} ${key}: a string where English has one, or forms`);
      for (const text of forms(message)) assert.ok(typeof text === "string" && text.trim(), `${locale} ${key}: empty`);
      if (typeof message === "string") continue;
      const selector = "$plural" in message ? "$plural" : "$ordinal";
      assert.equal(message[selector], original[selector], `${locale} ${key}: ${selector}`);
      assert.ok("other" in message, `${locale} ${key}: no "other" form`);
      for (const form of Object.keys(message).filter((k) => !k.startsWith("$"))) {
        assert.ok(categories[selector].includes(form), `${locale} ${key}: "${form}" is not a ${selector} category of ${locale}`);
      }
    }
  }
});

test("the Chinese catalogues have no English left in them", () => {
  for (const locale of LOCALES.filter((l) => l.startsWith("zh"))) {
    for (const [key, message] of Object.entries({ ...catalogues[locale], ...FIRST_PAINT[locale] })) {
      for (const text of forms(message)) {
        const words = text.replace(/\{\w+\}/g, "").match(/[A-Za-z]{2,}/g) ?? [];
        assert.deepEqual(words.filter((word) => !LATIN_ALLOWED.has(word)), [], `${locale} ${key}: ${text}`);
      }
    }
  }
});

test("every key the code names is in the catalogue, and every key of it is used", () => {
  const all = { ...english, ...FIRST_PAINT.en };
  const namespaces = new Set(Object.keys(all).map((key) => key.split(".")[0]));
  const used = keysInCode(namespaces);
  const missing = [...used].filter(([key]) => !(key in all)).map(([key, file]) => `${key} (${file})`);
  const unused = Object.keys(all).filter((key) => !used.has(key));
  assert.deepEqual({ missing, unused }, { missing: [], unused: [] });
  assert.ok(used.size > 150, `only ${used.size} keys found in the code: is the scan still looking?`);
});
