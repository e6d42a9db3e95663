// api.js — the one way to talk to the server: the session, the proxied Ironic API
// (microversion, CSRF and JSON headers, error decoding, expired sessions) and logout.

const LOGIN_URL = '/dashboard/login';
const API_PREFIX = '/dashboard/api';

// What boot learned: the session and the newest API microversion.
export const env = { session: null, apiVersion: null, versionInfo: null };

// An error answer: the HTTP status and the operator-readable message (faultstring).
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function goToLogin() {
  location.href = LOGIN_URL;
}

// The operator-readable message of an error body. Ironic nests a JSON document in a
// string under error_message (faultstring, or description for routing errors); some
// answers carry the object directly, some are not JSON at all.
function faultOf(text, status) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return text.trim().slice(0, 500) || `HTTP ${status}`;
  }
  let inner = body && typeof body === 'object' && 'error_message' in body ? body.error_message : body;
  if (typeof inner === 'string') {
    try {
      inner = JSON.parse(inner);
    } catch {
      return inner;
    }
  }
  if (inner && typeof inner === 'object') {
    return inner.faultstring || inner.description || inner.title || JSON.stringify(inner);
  }
  return String(inner ?? `HTTP ${status}`);
}

// A query string ("?a=1&b=2") from an object, leaving out empty values.
export function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? `?${new URLSearchParams(entries)}` : '';
}

// The path of a node (by UUID or name) in the API.
export const nodePath = (ident) => `/v1/nodes/${encodeURIComponent(ident)}`;

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// Calls the Ironic API: api('GET', '/v1/nodes?limit=5'). Resolves to the decoded
// body (null when empty); rejects with an ApiError.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (env.apiVersion) headers['X-OpenStack-Ironic-API-Version'] = env.apiVersion;
  if (MUTATING.has(method)) {
    headers['Content-Type'] = 'application/json';
    headers['X-CSRF-Token'] = env.session.csrf_token;
  }
  const res = await fetch(API_PREFIX + path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status === 401) {
    goToLogin();
    throw new ApiError(401, 'The session has expired.');
  }
  if (!res.ok) throw new ApiError(res.status, faultOf(text, res.status));
  return text ? JSON.parse(text) : null;
}

// Reads the network API (Neutron-shaped, read-only here): net('/v2.0/networks').
// Resolves to the decoded body; rejects with an ApiError (404 when this Ferric
// serves no network API).
export async function net(path) {
  const res = await fetch(`/dashboard/net${path}`, {
    headers: { Accept: 'application/json' }, credentials: 'same-origin',
  });
  const text = await res.text();
  if (res.status === 401) {
    goToLogin();
    throw new ApiError(401, 'The session has expired.');
  }
  if (!res.ok) {
    let message = text.trim().slice(0, 500) || `HTTP ${res.status}`;
    try {
      const body = JSON.parse(text);
      message = (body.NeutronError && body.NeutronError.message) || body.error || message;
    } catch { /* not JSON: the text itself */ }
    throw new ApiError(res.status, message);
  }
  return JSON.parse(text);
}

// Loads the session (401: not signed in, off to the login page) and the API's
// newest microversion, which every later request asks for.
export async function boot() {
  const res = await fetch('/dashboard/session', {
    headers: { Accept: 'application/json' }, credentials: 'same-origin',
  });
  if (res.status === 401) {
    goToLogin();
    throw new ApiError(401, 'Not signed in.');
  }
  if (!res.ok) throw new ApiError(res.status, faultOf(await res.text(), res.status));
  env.session = await res.json();
  const root = await api('GET', '/v1');
  env.versionInfo = root.version;
  env.apiVersion = root.version.version;
}

// Ends the session and goes to the login page.
export async function logout() {
  const res = await fetch('/dashboard/logout', {
    method: 'POST',
    headers: { 'X-CSRF-Token': env.session.csrf_token },
    credentials: 'same-origin',
  });
  if (!res.ok && res.status !== 401) throw new ApiError(res.status, faultOf(await res.text(), res.status));
  goToLogin();
}
