// The app is a client of the public /v1 API. The sign-in is an HttpOnly cookie the script
// never sees; every request that changes something carries `X-Requested-With: vereda`.
import { NETWORK_ERROR, refusalText } from '/js/es.js';

/** The API said no: `message` is the Spanish sentence to show. */
export class Refusal extends Error {
  constructor(status, problem) {
    super(refusalText(problem, status));
    this.status = status;
    this.code = (problem && problem.code) || '';
    this.field = (problem && problem.field) || '';
    /** The whole problem (e.g. a refused file's `errors`, one per bad row). */
    this.problem = problem || null;
  }
}

/** No answer at all: offline, or the server unreachable. */
export class Unreachable extends Error {
  constructor() {
    super(NETWORK_ERROR);
  }
}

let onSignedOut = () => {};
export function whenSignedOut(f) {
  onSignedOut = f;
}

export async function api(method, path, body, extraHeaders) {
  const headers = { Accept: 'application/json', ...(extraHeaders || {}) };
  if (method !== 'GET' && method !== 'HEAD') headers['X-Requested-With'] = 'vereda';
  // A file goes as it is (the server reads a CSV as UTF-8 or Windows-1252); anything else as JSON.
  const file = body instanceof Blob;
  if (body !== undefined) headers['Content-Type'] = file ? 'text/csv' : 'application/json';
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined || file ? body : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new Unreachable();
  }
  const text = await resp.text().catch(() => '');
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const refusal = new Refusal(resp.status, data);
    if (resp.status === 401 && !path.startsWith('/v1/auth/')) onSignedOut();
    throw refusal;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);
/** Upload a CSV file as it is, e.g. a bank's confirmation. */
export const postFile = (path, file, extraHeaders) => api('POST', path, file, extraHeaders);
