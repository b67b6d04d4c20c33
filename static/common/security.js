// The member's own two-step sign-in (desktop/templates/account.html, /api/v1/me/second-factor):
// set it up (a QR code and the key as text, confirmed by a current code, then the recovery codes,
// shown once), make new recovery codes (a current code), or turn it off (a current code, a recovery
// code or the password).
import { h, ready, replace, setText } from "./dom.js";
import { errorText, responseError } from "./errors.js";
import { staffMessages } from "./staff-language.js";

const { t, dateTime } = await staffMessages(null);
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const $ = (selector) => document.querySelector(selector);

async function post(path, body = {}) {
  const response = await fetch(`/api/v1/me/second-factor${path}`, {
    method: "POST", credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw responseError(response, data);
  return data;
}

function showError(form, error) {
  const line = form.querySelector("[data-form-error]");
  line.hidden = !error;
  setText(line, error ? errorText(t, error) : "");
}

async function setUp(button) {
  button.disabled = true;
  try {
    const enrolment = await post("/setup");
    $("[data-enrol-qr]").src = enrolment.qr;
    setText($("[data-enrol-secret]"), enrolment.secret_grouped);
    button.hidden = true;
    $("[data-enrol]").hidden = false;
    $("[data-confirm-form]").code.focus();
  } catch (error) {
    button.disabled = false;
    replace($("[data-enrol]"), h("p", { class: "login-error", role: "alert" }, errorText(t, error)));
    $("[data-enrol]").hidden = false;
  }
}

async function confirm(event) {
  event.preventDefault();
  const form = event.target;
  try {
    const done = await post("/confirm", { code: form.code.value.trim() });
    showError(form, null);
    $("[data-enrol]").hidden = true;
    replace($("[data-testid=security-status]"), h("span", { class: "badge on" }, t("security.on")));
    showCodes(done.recovery_codes);
  } catch (error) {
    showError(form, error);
    form.code.select();
  }
}

function showCodes(codes) {
  replace($("[data-codes-list]"), codes.map((code) => h("li", {}, h("code", {}, code))));
  $("[data-codes]").hidden = false;
  $("[data-codes]").scrollIntoView({ block: "nearest" });
}

async function newCodes(event) {
  event.preventDefault();
  const form = event.target;
  try {
    const done = await post("/recovery-codes", { code: form.code.value.trim() });
    showError(form, null);
    form.hidden = true;
    showCodes(done.recovery_codes);
  } catch (error) {
    showError(form, error);
  }
}

async function disable(event) {
  event.preventDefault();
  const form = event.target;
  const code = form.code.value.trim();
  try {
    await post("/disable", code ? { code } : { password: form.password.value });
    window.location.reload();
  } catch (error) {
    showError(form, error);
  }
}

const since = $("[data-security-since]");
const enrolledAt = Number($("[data-security]")?.dataset.enrolledAt);
if (since && enrolledAt) setText(since, t("security.since", { date: dateTime(enrolledAt) }));
$("[data-setup]")?.addEventListener("click", (event) => setUp(event.currentTarget));
$("[data-confirm-form]")?.addEventListener("submit", confirm);
$("[data-disable-form]")?.addEventListener("submit", disable);
$("[data-new-codes-form]")?.addEventListener("submit", newCodes);
ready();
