// The admin API (/api/v1/admin/...) with the page's CSRF token; errors thrown with the server's message.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

export async function api(method, path, body) {
  const response = await fetch(`/api/v1/admin${path}`, {
    method, credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
    throw new Error("Your session ended; sign in again.");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data?.error?.message || `The server answered ${response.status}`);
  return data;
}
