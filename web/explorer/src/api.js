// The public /v1 API, called with the key kept in this tab's sessionStorage (never elsewhere).

const KEY_ITEM = "prodgraph.apiKey";

/** An error answer of the API: its HTTP status and the `{"error": {code, message}}` body. */
export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export function storedKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

export function storeKey(key) {
  sessionStorage.setItem(KEY_ITEM, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_ITEM);
}

let onUnauthenticated = null;

/** Called (once per 401) so the page can ask for a key; the failed call still rejects. */
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const err = body && body.error;
  if (err && err.message) {
    return new ApiError(response.status, err.code, err.message, err.detail);
  }
  return new ApiError(response.status, "http_" + response.status, `HTTP ${response.status}`, null);
}

/**
 * Call `path` (relative, e.g. "v1/cypher") with an optional JSON body.
 * `as` is "json" (default) or "text" (e.g. with accept: "text/csv").
 */
export async function call(path, { method = "GET", body, accept, as = "json", key } = {}) {
  const headers = { Accept: accept || "application/json" };
  const useKey = key ?? storedKey();
  if (useKey) headers.Authorization = `Bearer ${useKey}`;
  const init = { method, headers, credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && onUnauthenticated) onUnauthenticated(error);
    throw error;
  }
  return as === "text" ? response.text() : response.json();
}

export const api = {
  schema: (key) => call("v1/schema", { key }),
  counts: () => call("v1/schema/counts"),
  cypher: (query, params = {}, limits = {}) =>
    call("v1/cypher", { method: "POST", body: { query, params, ...limits } }),
  cypherCsv: (query, params = {}) =>
    call("v1/cypher", {
      method: "POST",
      body: { query, params },
      accept: "text/csv",
      as: "text",
    }),
  queries: () => call("v1/queries"),
  runQuery: (name, params = {}) =>
    call(`v1/queries/${encodeURIComponent(name)}`, { method: "POST", body: { params } }),
  runQueryCsv: (name, params = {}) =>
    call(`v1/queries/${encodeURIComponent(name)}`, {
      method: "POST",
      body: { params },
      accept: "text/csv",
      as: "text",
    }),
  risk: (body) => call("v1/risk", { method: "POST", body }),
  recentRisk: (limit = 20) => call(`v1/risk/recent?limit=${limit}`),
  triage: (body) => call("v1/triage", { method: "POST", body }),
  errorHistory: (fingerprint) =>
    call(`v1/errors/${encodeURIComponent(fingerprint)}/history`),
};

/** Rows of a `{columns, rows}` answer as objects keyed by column name. */
export function records(result) {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
}
