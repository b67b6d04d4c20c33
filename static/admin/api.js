// The admin API (/api/v1/admin/...) with the page's CSRF token; a refusal is thrown as a ServerError
// (its code worded in the admin's language by errorText, static/common/errors.js).
import { ServerError, responseError } from "../common/errors.js";

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

export async function api(method, path, body) {
  const response = await fetch(`/api/v1/admin${path}`, {
    method, credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
    throw new ServerError("unauthorized", "Your session ended; sign in again.", { status: 401 });
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw responseError(response, data);
  return data;
}
