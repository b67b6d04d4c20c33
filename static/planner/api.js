// The planner's REST calls (/api/v1/rules/...): JSON in and out, the page's CSRF token on changes.
const CSRF = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

/** An API failure: `status`, the server's `code`, and `errors` ([{field, position, line, column, message}]). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `request failed (${status})`);
    this.status = status;
    this.code = body?.error?.code || `http_${status}`; // worded by errorText (common/errors.js)
    this.errors = body?.error?.errors || [];
  }
}

export async function call(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  if (method !== "GET") options.headers["X-CSRF-Token"] = CSRF();
  const response = await fetch(`/api/v1${path}`, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const rules = {
  fields: () => call("GET", "/rules/fields"),
  actions: () => call("GET", "/rules/actions").then((d) => d.items),
  create: (action) => call("POST", "/rules/actions", action),
  update: (action) => call("PUT", `/rules/actions/${encodeURIComponent(action.id)}`, action),
  remove: (id) => call("DELETE", `/rules/actions/${encodeURIComponent(id)}`),
  validate: (fields) => call("POST", "/rules/validate", fields),
  preview: (body) => call("POST", "/rules/preview", body),
  publish: (note) => call("POST", "/rules/publish", { note }),
  versions: () => call("GET", "/rules/versions"),
  audit: () => call("GET", "/rules/audit").then((d) => d.items),
  test: (body) => call("POST", "/rules/test", body),
  searchCustomers: (q) => call("GET", `/customers?q=${encodeURIComponent(q)}&limit=8`).then((d) => d.items),
};
