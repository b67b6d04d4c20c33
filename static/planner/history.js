// Versions (what was published, by whom) and the audit of every change.
import { h, replace } from "../common/dom.js";
import { rules } from "./api.js";
import { dateTime, number, t } from "./i18n.js";

function changed(before, after) {
  if (!before || !after) return "";
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).join(", ");
}

// The audit's events are codes (desktop/repository/rules.py); one not listed shows as it came.
const WHAT = { create: "history.what_create", update: "history.what_update", delete: "history.what_delete", import: "history.what_import", publish: "history.what_publish" };
const what = (code) => (WHAT[code] ? t(WHAT[code]) : code);

function who(actor) {
  return (actor || "").replace(/^agent:/, "");
}

export async function showHistory(root, names = new Map()) {
  const [{ live, items }, audit] = await Promise.all([rules.versions(), rules.audit()]);
  replace(root,
    h("div", { class: "card" }, h("h2", {}, t("history.versions")),
      items.length ? h("table", { dataset: { testid: "versions" } },
        h("thead", {}, h("tr", {}, [t("history.version"), t("history.published"), t("history.by"), t("history.actions"), t("history.note")]
          .map((text) => h("th", { scope: "col" }, text)))),
        h("tbody", {}, items.map((v) => h("tr", { dataset: { testid: `version-${v.version}` } },
          h("td", {}, t("history.version_number", { version: v.version }), " ", v.version === live ? h("span", { class: "badge live" }, t("history.live")) : null),
          h("td", {}, dateTime(v.published_at)), h("td", { translate: "no" }, names.get(who(v.published_by)) || who(v.published_by)),
          h("td", {}, number(v.count)), h("td", { translate: "no" }, v.note)))))
        : h("p", { class: "muted" }, t("history.nothing"))),
    h("div", { class: "card" }, h("h2", {}, t("history.audit")),
      h("table", { dataset: { testid: "audit" } },
        h("thead", {}, h("tr", {}, [t("history.when"), t("history.who"), t("history.what"), t("history.action"), t("history.changed")]
          .map((text) => h("th", { scope: "col" }, text)))),
        h("tbody", {}, audit.map((row) => h("tr", {},
          h("td", {}, dateTime(row.at)), h("td", { translate: "no" }, names.get(who(row.by)) || who(row.by)),
          h("td", {}, row.version ? t("history.what_version", { what: what(row.what), version: row.version }) : what(row.what)),
          h("td", { translate: "no" }, row.action_id || ""),
          h("td", { class: "muted small", translate: "no" }, changed(row.before, row.after))))))));
}
