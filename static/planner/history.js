// Versions (what was published, by whom) and the audit of every change.
import { h, replace } from "../common/dom.js";
import { dateTime } from "../common/format.js";
import { rules } from "./api.js";

function changed(before, after) {
  if (!before || !after) return "";
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).join(", ");
}

function who(actor) {
  return (actor || "").replace(/^agent:/, "");
}

export async function showHistory(root, names = new Map()) {
  const [{ live, items }, audit] = await Promise.all([rules.versions(), rules.audit()]);
  replace(root,
    h("div", { class: "card" }, h("h2", {}, "Published versions"),
      items.length ? h("table", { dataset: { testid: "versions" } },
        h("thead", {}, h("tr", {}, ["Version", "Published", "By", "Actions", "Note"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, items.map((v) => h("tr", { dataset: { testid: `version-${v.version}` } },
          h("td", {}, `v${v.version} `, v.version === live ? h("span", { class: "badge live" }, "live") : null),
          h("td", {}, dateTime(v.published_at)), h("td", {}, names.get(who(v.published_by)) || who(v.published_by)),
          h("td", {}, v.count), h("td", {}, v.note)))))
        : h("p", { class: "muted" }, "Nothing published yet.")),
    h("div", { class: "card" }, h("h2", {}, "Audit"),
      h("table", { dataset: { testid: "audit" } },
        h("thead", {}, h("tr", {}, ["When", "Who", "What", "Action", "Changed"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, audit.map((row) => h("tr", {},
          h("td", {}, dateTime(row.at)), h("td", {}, names.get(who(row.by)) || who(row.by)),
          h("td", {}, row.what + (row.version ? ` v${row.version}` : "")), h("td", {}, row.action_id || ""),
          h("td", { class: "muted small" }, changed(row.before, row.after))))))));
}
