// What a staff page shows when the server refuses something: the words for the error's `code`
// in the reader's language (the shell's catalogue, static/common/messages-<locale>.js), filled
// from its facts (`detail`, `retryAfter`). The server's own message is English, for developers
// (docs/protocol.md, the API's `{"error": {code, message, detail?}}`): a page shows it only for a
// code it does not know.

/** A refusal from the REST API, carrying the code a page words it by. */
export class ServerError extends Error {
  constructor(code, message, { status = null, detail = null, retryAfter = null } = {}) {
    super(message || code);
    this.name = "ServerError";
    Object.assign(this, { code, status, detail, retryAfter });
  }
}

/** The ServerError of a failed `response` whose JSON body is `body` ({} if it had none). */
export function responseError(response, body) {
  // The API's {"error": {code, message}}; the documents' upload answers {"error": code, "message"}.
  const error = typeof body?.error === "string" ? { code: body.error, message: body.message } : body?.error || {};
  return new ServerError(error.code || `http_${response.status}`, error.message || "", {
    status: response.status, detail: error.detail ?? null, retryAfter: error.retry_after ?? null,
  });
}

/** Every code the server sends a staff page (the API's and the hub's), by the words for it. */
const BY_CODE = {
  invalid: "server.invalid", invalid_condition: "server.invalid", bad_message: "server.invalid",
  bad_request: "server.invalid", bad_json: "server.invalid", unsupported_media_type: "server.invalid",
  unknown_type: "server.invalid", not_found: "server.not_found", conflict: "server.conflict",
  username_taken: "server.username_taken", own_account: "server.own_account", last_queue: "server.last_queue",
  invalid_hours: "server.invalid_hours", invalid_url: "server.invalid_url", invalid_range: "server.invalid_range",
  unauthorized: "server.unauthorized", signed_out: "server.unauthorized", session_expired: "server.unauthorized",
  forbidden: "server.forbidden", csrf: "server.csrf", origin: "server.forbidden",
  too_large: "server.too_large", rate_limited: "server.rate_limited", throttled: "server.rate_limited",
  invalid_state: "server.invalid_state", timeout: "server.timeout", closed: "server.timeout", not_ready: "server.timeout",
  internal: "server.internal", capacity: "server.capacity", bad_sdp: "server.voice", already_connected: "server.voice",
  trunk: "server.trunk", bad_document: "server.bad_document", unsupported_type: "server.unsupported_type",
  wrong_code: "server.wrong_code", code_used: "server.code_used", wrong_password: "server.wrong_password",
  totp_required: "server.totp_required", already_enrolled: "server.already_enrolled", not_enrolled: "server.not_enrolled",
  enrolment_expired: "server.enrolment_expired", sso_account: "server.sso_account",
};

/** Why a receiver URL was refused, by the words for it. */
const URL_REASONS = {
  too_long: "server.url_too_long", not_url: "server.url_not_url", scheme: "server.url_scheme",
  no_host: "server.url_no_host", credentials: "server.url_credentials", private: "server.url_private",
  unresolved: "server.url_unresolved",
};

/** The codes of refused input, whose message says which field and what form it must take. */
const SAYS_WHAT = { invalid: true, invalid_condition: true, bad_message: true, bad_request: true, invalid_hours: true,
  invalid_url: true, invalid_range: true };

/**
 * The text for `error` (a ServerError, the hub's HubError, or what fetch threw) in the page's
 * language; `t` is the page's (its catalogue with the shell's after it).
 */
export function errorText(t, error) {
  const code = error?.code;
  if (code === "rate_limited" && error.retryAfter) return t("server.rate_limited_wait", { seconds: Math.ceil(error.retryAfter) });
  // A receiver URL refused for a reason the server names (desktop/webhooks/targets.py).
  if (code === "invalid_url" && Object.hasOwn(URL_REASONS, error.detail?.reason ?? "")) return t(URL_REASONS[error.detail.reason]);
  // A refused input: what exactly is wrong is in the server's sentence (a field, a value, the
  // form it must take), which no code can carry. English reads it as it is; Chinese after a lead.
  if (Object.hasOwn(SAYS_WHAT, code ?? "") && error.message && error.message !== code) {
    return t("server.invalid_detail", { message: error.message });
  }
  if (Object.hasOwn(BY_CODE, code ?? "")) return t(BY_CODE[code]);
  // No code in the answer (a proxy's page, a route this server lacks): its status, in our words.
  if (/^http_5\d\d$/.test(code ?? "")) return t("server.internal");
  if (/^http_\d+$/.test(code ?? "")) return t("server.http", { status: error.status });
  if (!code && error instanceof TypeError) return t("server.network"); // fetch could not reach the server
  return error?.message || String(error ?? "");
}
