// The staff pages' message catalogues (issue 14): the shell every page shares
// (static/common/messages-<locale>.js) and one per page family (static/<family>/messages-<locale>.js).
// Every language has exactly the English keys, with the same placeholders and plural selectors,
// and no English left in Chinese; every key a family's code or template names is in its
// catalogue or the shell's, and every key of a catalogue is named somewhere (a missing or an
// unused key fails). Run: node --test tests/js/
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { LOCALES } from "../../static/common/staff-language.js";

const statics = new URL("../../static/", import.meta.url);
const templates = new URL("../../desktop/templates/", import.meta.url);

/** Each family: its folder under static/ and the templates that are its HTML. */
export const FAMILIES = {
  common: { templates: ["base.html", "login_base.html", "login.html", "setup.html", "login_error.html", "login_code.html", "login_enrol.html",
    "login_recovery.html", "account.html"], code: ["staff-language.js", "shell.js", "toast.js", "errors.js", "security.js"] },
  supervisor: { templates: ["supervisor.html"] },
  planner: { templates: ["planner.html"] },
  reports: { templates: ["reports.html"] },
  admin: { templates: ["admin.html"] },
  desk: { templates: ["desk.html", "customers.html", "cobrowse_watch.html"] },
};
const present = Object.fromEntries(Object.entries(FAMILIES).filter(([dir]) => existsSync(new URL(`${dir}/messages-en.js`, statics))));

/** Latin words a Chinese message may keep: the brand, tools named in a command, units. */
const LATIN_ALLOWED = new Set(["otodesk", "Esc", "HTML", "http", "https", "mailto", "npm", "ci", "node", "static", "copy", "vendor", "mjs", "CSV", "JSON", "ID", "URL", "SIP", "Markdown", "PDF", "QR"]);

const catalogues = {};
for (const dir of Object.keys(present)) {
  catalogues[dir] = Object.fromEntries(await Promise.all(LOCALES.map(async (locale) =>
    [locale, (await import(new URL(`${dir}/messages-${locale}.js`, statics))).default])));
}

function forms(message) {
  return typeof message === "string" ? [message] : Object.entries(message).filter(([k]) => !k.startsWith("$")).map(([, v]) => v);
}

function placeholders(message) {
  return [...new Set(forms(message).flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))].sort();
}

/** The sources of a family: its scripts (not the catalogues), comments stripped, and its templates. */
function sources(dir) {
  const family = FAMILIES[dir];
  const names = family.code ?? readdirSync(new URL(dir, statics)).filter((n) => n.endsWith(".js") && !n.startsWith("messages-"));
  const code = names.map((name) => [`${dir}/${name}`, readFileSync(new URL(`${dir}/${name}`, statics), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1")]);
  const html = family.templates.map((name) => [name, readFileSync(new URL(name, templates), "utf8").replace(/\{#[\s\S]*?#\}/g, "")]);
  return [...code, ...html];
}

/** Every quoted "namespace.key" of the given namespaces in `files`, with where. */
function keysIn(files, namespaces) {
  const found = new Map();
  for (const [where, text] of files) {
    // Quoted, one of a data-i18n-attr's "name:key;name:key", or a template block's "%}key{%".
    for (const match of text.matchAll(/(?<=["'`:}])([a-z]+(?:\.[a-z0-9_]+)+)(?=["'`;{])/g)) {
      if (namespaces.has(match[1].split(".")[0])) found.set(match[1], where);
    }
  }
  return found;
}

const namespacesOf = (catalogue) => new Set(Object.keys(catalogue).map((key) => key.split(".")[0]));

test("there are catalogues for the shell and the page families", () => {
  assert.ok("common" in present && "supervisor" in present, Object.keys(present).join(", "));
});

test("every language has exactly the English keys", () => {
  for (const [dir, byLocale] of Object.entries(catalogues)) {
    for (const locale of LOCALES) {
      const missing = Object.keys(byLocale.en).filter((key) => !(key in byLocale[locale]));
      const extra = Object.keys(byLocale[locale]).filter((key) => !(key in byLocale.en));
      assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${dir} ${locale}`);
    }
  }
});

test("translations keep the placeholders and plural selectors, in their language's categories", () => {
  for (const [dir, byLocale] of Object.entries(catalogues)) {
    for (const locale of LOCALES) {
      const categories = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
      for (const [key, message] of Object.entries(byLocale[locale])) {
        const original = byLocale.en[key];
        const where = `${dir} ${locale} ${key}`;
        assert.deepEqual(placeholders(message), placeholders(original), `${where}: placeholders`);
        assert.equal(typeof message, typeof original, `${where}: a string where English has one, or forms`);
        for (const text of forms(message)) assert.ok(typeof text === "string" && text.trim(), `${where}: empty`);
        if (typeof message === "string") continue;
        assert.equal(message.$plural, original.$plural, `${where}: $plural`);
        assert.ok("other" in message, `${where}: no "other" form`);
        for (const form of Object.keys(message).filter((k) => !k.startsWith("$"))) {
          assert.ok(categories.includes(form), `${where}: "${form}" is not a plural category of ${locale}`);
        }
      }
    }
  }
});

test("the Chinese catalogues have no English left in them", () => {
  for (const [dir, byLocale] of Object.entries(catalogues)) {
    for (const locale of LOCALES.filter((l) => l.startsWith("zh"))) {
      for (const [key, message] of Object.entries(byLocale[locale])) {
        for (const text of forms(message)) {
          // Braces hold placeholders, ours or the planner's script's ({first_name|您好}).
          // ...and an address is not words.
          const words = text.replace(/\{[^}]*\}/g, "").replace(/https?:\/\/\S+/g, "").match(/[A-Za-z]{2,}/g) ?? [];
          assert.deepEqual(words.filter((word) => !LATIN_ALLOWED.has(word)), [], `${dir} ${locale} ${key}: ${text}`);
        }
      }
    }
  }
});

test("every key a family names is in its catalogue or the shell's, and every key is named", () => {
  const shell = catalogues.common.en;
  const usedAnywhere = new Map();
  for (const dir of Object.keys(catalogues)) {
    const own = dir === "common" ? {} : catalogues[dir].en;
    const all = { ...shell, ...own };
    const used = keysIn(sources(dir), namespacesOf(all));
    for (const [key, where] of used) usedAnywhere.set(key, where);
    const missing = [...used].filter(([key]) => !(key in all)).map(([key, where]) => `${key} (${where})`);
    const unused = Object.keys(own).filter((key) => !used.has(key));
    assert.deepEqual({ missing, unused }, { missing: [], unused: [] }, dir);
    if (dir !== "common") assert.ok(used.size > 10, `${dir}: only ${used.size} keys found in the code: is the scan still looking?`);
  }
  // The shell's keys may be named by any page (the connection line, the titles).
  for (const dir of Object.keys(FAMILIES)) {
    for (const [key, where] of keysIn(sources(dir), namespacesOf(shell))) usedAnywhere.set(key, where);
  }
  const unusedShell = Object.keys(shell).filter((key) => !usedAnywhere.has(key) && key !== "date.day_time");
  assert.deepEqual(unusedShell, [], "common");
});
