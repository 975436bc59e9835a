// The admin API client of the console. The token lives in sessionStorage (gone when the tab closes) and
// travels only as an `Authorization: Bearer` header: never in a URL, never in a cookie, so there is no
// ambient credential for a cross-site request to ride on (no CSRF), and every mutating call carries it.

const KEY = 'agp-admin-token';

export function getToken() {
  return sessionStorage.getItem(KEY);
}

export function setToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(KEY);
}

/** An error of the admin API, with its HTTP status and error code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(method, path, body, accept) {
  const headers = { authorization: `Bearer ${getToken() ?? ''}`, accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
  });
  if (res.status === 401) {
    clearToken();
    window.dispatchEvent(new CustomEvent('agp-logout', { detail: 'The token was refused (401).' }));
  }
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = `${method} ${path}: HTTP ${res.status}`;
    try {
      const e = (await res.json()).error;
      if (e?.code) code = e.code;
      if (e?.message) message = `${e.code}: ${e.message}`;
    } catch {
      // Not the JSON error envelope: keep the status line.
    }
    throw new ApiError(res.status, code, message);
  }
  return res;
}

/** Calls a JSON route; resolves to the parsed body (undefined for 204). */
export async function api(method, path, body) {
  const res = await request(method, path, body, 'application/json');
  return res.status === 204 ? undefined : res.json();
}

/** Fetches a text artifact (report Markdown, SVG chart, JSONL trace). */
export async function apiText(path) {
  return (await request('GET', path, undefined, '*/*')).text();
}

/** Path segment encoding for ids and versions taken from data. */
export const seg = (s) => encodeURIComponent(String(s));
