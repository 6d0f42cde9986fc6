// The API client: the session's tokens, authenticated calls that refresh
// once on 401, problem+json errors as ApiError, and jobs followed through
// their server-sent events (read with fetch, since EventSource cannot send
// an Authorization header).

const STORE_KEY = 'nqba.session';

// The tokens live in memory and in this tab's sessionStorage (so a reload
// keeps the session), never in localStorage or a cookie.
let session = null;
let refreshing = null;
const listeners = new Set();

function loadSession() {
  try {
    const raw = sessionStorage.getItem(STORE_KEY);
    session = raw ? JSON.parse(raw) : null;
  } catch {
    session = null;
  }
}
loadSession();

function saveSession(s) {
  session = s;
  if (s) sessionStorage.setItem(STORE_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(STORE_KEY);
  for (const fn of listeners) fn(s);
}

export function onSessionChange(fn) {
  listeners.add(fn);
}

export function currentSession() {
  return session;
}

// The access token's claims (role, sub, mfa, exp): shown, never trusted;
// the server checks every call.
export function claims() {
  if (!session) return null;
  try {
    const part = session.access.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return null;
  }
}

export class ApiError extends Error {
  constructor(status, problem) {
    const detail = (problem && (problem.detail || problem.title)) || `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.problem = problem || {};
    this.detail = detail;
    this.pointer = (problem && problem.pointer) || null;
    this.title = (problem && problem.title) || null;
  }
}

async function toError(res) {
  let problem = null;
  const text = await res.text();
  try {
    problem = JSON.parse(text);
  } catch {
    problem = { detail: text.trim() || res.statusText };
  }
  return new ApiError(res.status, problem);
}

function tokenRequest(path, body) {
  return fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    cache: 'no-store',
  });
}

// A TOTP code is asked for when the password was right and the account has
// TOTP enrolled: a 401 whose detail names the "totp" member.
export async function signIn(username, password, totp) {
  const body = { username, password };
  if (totp) body.totp = totp;
  const res = await tokenRequest('/api/v1/auth/token', body);
  if (!res.ok) {
    const err = await toError(res);
    err.needTotp = res.status === 401 && !totp && /TOTP code is required/i.test(err.detail);
    throw err;
  }
  const doc = await res.json();
  saveSession({ access: doc.access_token, refresh: doc.refresh_token, username });
}

export async function signOut() {
  const s = session;
  saveSession(null);
  if (s && s.refresh) {
    try {
      await tokenRequest('/api/v1/auth/logout', { refresh_token: s.refresh });
    } catch {
      // Signed out locally either way; the refresh token expires by itself.
    }
  }
}

// One refresh at a time: calls that meet a 401 together share it. A
// refresh token is good once, so two parallel refreshes would end the
// session (the server sees reuse and revokes the family).
function refresh() {
  if (!session || !session.refresh) return Promise.resolve(false);
  if (!refreshing) {
    const used = session.refresh;
    refreshing = tokenRequest('/api/v1/auth/refresh', { refresh_token: used })
      .then(async (res) => {
        if (!res.ok) {
          saveSession(null);
          return false;
        }
        const doc = await res.json();
        saveSession({ ...session, access: doc.access_token, refresh: doc.refresh_token });
        return true;
      })
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

// fetch with the bearer token; a 401 refreshes once and retries. Answers
// the Response when ok, else throws ApiError.
export async function call(path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  let body = opts.body;
  if (body !== undefined && typeof body !== 'string') {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(body);
  }
  const send = () => {
    const h = { ...headers };
    if (session) h.Authorization = `Bearer ${session.access}`;
    return fetch(path, { method: opts.method || 'GET', headers: h, body, cache: 'no-store', signal: opts.signal });
  };
  let res = await send();
  if (res.status === 401 && session && (await refresh())) res = await send();
  if (res.status === 401 && !opts.keepSession) saveSession(null);
  if (!res.ok) throw await toError(res);
  return res;
}

export async function getJSON(path, opts) {
  const res = await call(path, opts);
  return res.json();
}

export async function getText(path, opts) {
  const res = await call(path, opts);
  return res.text();
}

// Split a text/event-stream into {event, data} records.
function* sseRecords(buffer) {
  let start = 0;
  for (;;) {
    const end = buffer.text.indexOf('\n\n', start);
    if (end < 0) break;
    const block = buffer.text.slice(start, end);
    start = end + 2;
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) yield { event, data: data.join('\n') };
  }
  buffer.text = buffer.text.slice(start);
}

// Follow a job's events until its result; onProgress(fraction 0..1, data).
export async function followJob(id, onProgress) {
  const res = await call(`/api/v1/jobs/${encodeURIComponent(id)}/events`, {
    headers: { Accept: 'text/event-stream' },
  });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const buffer = { text: '' };
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer.text += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    for (const rec of sseRecords(buffer)) {
      const data = rec.data ? JSON.parse(rec.data) : null;
      if (rec.event === 'progress') {
        if (onProgress && data && typeof data.fraction === 'number') onProgress(data.fraction, data);
      } else if (rec.event === 'result') {
        if (onProgress) onProgress(1, data);
        reader.cancel().catch(() => {});
        return data;
      } else if (rec.event === 'error') {
        reader.cancel().catch(() => {});
        throw new ApiError(422, data || { detail: 'the job failed' });
      } else if (rec.event === 'cancelled') {
        reader.cancel().catch(() => {});
        throw new ApiError(409, { detail: 'the job was cancelled' });
      }
    }
    if (done) throw new ApiError(0, { detail: 'the event stream ended before the result' });
  }
}

// Submit work as a job (Prefer: respond-async) and follow it to its result.
// A route that answers at once (200/201, no job) gives its body directly.
// Resolves {id, result}.
export async function runJob(path, body, onProgress) {
  const res = await call(path, { method: 'POST', body, headers: { Prefer: 'respond-async' } });
  const doc = await res.json();
  const id = res.headers.get('X-Job-Id') || (doc && doc.id);
  if (res.status === 202 && doc && doc.links && doc.links.events) {
    if (onProgress) onProgress(0, null);
    return { id, result: await followJob(doc.id, onProgress) };
  }
  if (onProgress) onProgress(1, null);
  return { id, result: doc };
}
