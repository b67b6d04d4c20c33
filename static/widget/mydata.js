// "My data" (seed 004: the customer may view, correct and delete their data),
// loaded by widget.js only once the site has identified the customer with a
// valid HMAC. It talks to /api/me with the short-lived token of that identify
// (token(); refresh() renews it by identifying again); the year-long visitor
// token opens nothing here, and an anonymous visitor gets nothing shown.
//
//   start({ ui, base, token, refresh, erasing, onErased }) -> Promise<{ open(), close(), remove() } | null>
import { h, replace } from "../common/dom.js";
import { errorText } from "./errors.js";

const STYLE = `
.mydata-link { position: fixed; right: 16px; bottom: 84px; font: 13px system-ui, sans-serif; background: #fff;
  border: 1px solid #ccd; border-radius: 16px; padding: 4px 12px; cursor: pointer; z-index: 2147483000; }
.mydata { position: fixed; right: 16px; bottom: 120px; width: min(360px, calc(100vw - 32px)); max-height: 70vh;
  overflow: auto; background: #fff; color: #222; border-radius: 12px; box-shadow: 0 8px 32px rgba(0,0,0,.25);
  padding: 16px; font: 14px/1.4 system-ui, sans-serif; z-index: 2147483001; }
.mydata h2 { font-size: 16px; margin: 0 0 8px; }
.mydata label { display: block; margin: 6px 0; }
.mydata input { width: 100%; box-sizing: border-box; padding: 6px; font: inherit; }
.mydata .row { display: flex; gap: 8px; flex-wrap: wrap; margin-top: 10px; }
.mydata button { font: inherit; padding: 6px 10px; border-radius: 6px; border: 1px solid #99a; background: #f6f6fa; cursor: pointer; }
.mydata .danger { border-color: #c33; color: #a00; }
.mydata .muted { color: #667; font-size: 12px; }
`;

export async function start({ ui, base, token, refresh, erasing, onErased, language = ui.language }) {
  const { t } = language;
  // The words for the server's code; a failure without one (the network) in ours.
  const reason = (error) => (error?.code ? errorText(error, language) : t("mydata.failed"));
  async function api(path, { method = "GET", body } = {}) {
    const send = (me) => {
      const headers = { "X-Otodesk-Me": me || "" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      return fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    };
    let response = await send(token());
    if (response.status === 401 && refresh) {
      // The token lives 15 minutes: the site's identify again gives a fresh one.
      const fresh = await refresh().catch(() => null);
      if (fresh) response = await send(fresh);
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.error?.message || `HTTP ${response.status}`);
      Object.assign(error, { status: response.status, code: data.error?.code, detail: data.error?.detail,
        retryAfter: data.error?.retry_after });
      throw error;
    }
    return data;
  }

  try {
    await api("/api/me");
  } catch {
    return null; // not identified (or erased): no "My data"
  }

  const root = ui.root;
  root.append(h("style", {}, STYLE));
  const panel = h("section", { class: "mydata", hidden: true, role: "dialog", "aria-label": t("mydata.title"), dataset: { testid: "mydata" } });
  const link = h("button", { type: "button", class: "mydata-link", dataset: { testid: "mydata-open" }, onclick: () => (panel.hidden ? open() : close()) }, t("mydata.title"));
  root.append(link, panel);

  function status(text) {
    const line = panel.querySelector("[data-status]");
    if (line) line.textContent = text;
  }

  async function open() {
    panel.hidden = false;
    replace(panel, h("p", {}, t("mydata.loading")));
    let data;
    try {
      data = await api("/api/me");
    } catch (error) {
      replace(panel, h("p", {}, reason(error)));
      return;
    }
    const c = data.customer;
    const name = h("input", { name: "name", value: c.name || "", maxlength: "200", dataset: { testid: "mydata-name" } });
    const email = h("input", { name: "email", type: "email", value: c.email || "", maxlength: "200", dataset: { testid: "mydata-email" } });
    const phone = h("input", { name: "phone", type: "tel", value: c.phone || "", maxlength: "200", dataset: { testid: "mydata-phone" } });
    replace(panel,
      h("h2", {}, t("mydata.heading")),
      h("p", { class: "muted", dataset: { testid: "mydata-summary" } },
        t("mydata.summary", {
          contacts: t("mydata.contacts", { count: data.timeline.length }),
          orders: t("mydata.orders", { count: data.orders.length }),
          identities: t("mydata.identities", { count: data.identities.length }),
        })),
      h("form", { onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api("/api/me", { method: "PATCH", body: { name: name.value.trim() || null, email: email.value.trim() || null, phone: phone.value.trim() || null } });
          status(t("mydata.saved"));
        } catch (error) {
          status(reason(error));
        }
      } },
        h("label", {}, t("mydata.name"), name), h("label", {}, t("mydata.email"), email), h("label", {}, t("mydata.phone"), phone),
        h("div", { class: "row" },
          h("button", { type: "submit", dataset: { testid: "mydata-save" } }, t("mydata.save")),
          h("button", { type: "button", dataset: { testid: "mydata-download" }, onclick: () => download(data) }, t("mydata.download")),
          h("button", { type: "button", class: "danger", dataset: { testid: "mydata-erase" }, onclick: erase }, t("mydata.erase")),
          h("button", { type: "button", onclick: close }, t("mydata.close")))),
      h("p", { class: "muted", role: "status", "data-status": "", dataset: { testid: "mydata-status" } }));
  }

  function close() {
    panel.hidden = true;
  }

  async function download(current) {
    let data = current;
    try {
      data = await api("/api/me");
    } catch { /* the copy on screen is still theirs */ }
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    const a = h("a", { href: url, download: "my-data.json" });
    root.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async function erase() {
    if (!confirm(t("mydata.erase_confirm"))) return;
    erasing?.(true); // the server's "signed out" for this very erasure is ours, not news
    try {
      await api("/api/me/erase", { method: "POST" });
    } catch (error) {
      erasing?.(false);
      status(reason(error));
      return;
    }
    replace(panel, h("p", { dataset: { testid: "mydata-erased" } },
      t("mydata.erased")));
    link.remove();
    setTimeout(() => panel.remove(), 8000);
    onErased?.();
  }

  /** The site signed the person out: nothing of theirs stays on this page. */
  function remove() {
    link.remove();
    panel.remove();
  }

  return { open, close, remove };
}
