// The one door to the server. The browser never holds a token: the session
// cookie rides along (same origin) and the server's backend-for-frontend calls
// /api/<rest> with the signed-in person's token. Writes carry the CSRF token
// the session handed out; a 401 console.signed.out means the sign-in ended, so
// the page goes back to /console/login instead of showing an error.

let csrfToken = '';

export function setCsrfToken(token) {
  csrfToken = token || '';
}

// An error answer of the API (docs/api.md §3), or a request that got no answer.
export class ApiError extends Error {
  constructor(status, body, fallback) {
    super((body && body.message) || fallback || `The server answered ${status}.`);
    this.name = 'ApiError';
    this.status = status;
    this.code = (body && body.code) || '';
    this.contextId = (body && body.contextId) || '';
    this.explanation = (body && body.explanation) || null;
    this.body = body;
  }

  // The fix sentences of the explanation (denials, input problems, 503s).
  get fixes() {
    const fix = this.explanation && this.explanation.fix;
    if (Array.isArray(fix)) return fix.filter(Boolean);
    return fix ? [String(fix)] : [];
  }
}

// /api/v2/users → /console/api/v2/users; /console/... paths are used as they are.
export function consoleUrl(path) {
  if (path.startsWith('/console/')) return path;
  return `/console${path.startsWith('/api/') ? '' : '/api'}${path}`;
}

let leaving = false;
function signIn() {
  if (!leaving) {
    leaving = true;
    window.location.assign('/console/login');
  }
}

async function readBody(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Sends one request; resolves to the parsed JSON body (null for 204), or
// rejects with an ApiError carrying the server's message, code and fix.
export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(consoleUrl(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, {
      message: 'The server did not answer.',
      explanation: { fix: ['Check that verbatim is running and reachable, then try again.'] },
    });
  }
  const data = await readBody(res);
  if (res.ok) return data;
  // The session endpoint's 401 always means "not signed in", whatever its body.
  if (res.status === 401 && ((data && data.code === 'console.signed.out') || path === '/console/session')) {
    signIn();
    throw new ApiError(401, { ...data, message: 'Your sign-in ended. Taking you to the sign-in page…' });
  }
  throw new ApiError(res.status, data, `The server answered ${res.status} ${res.statusText}.`.trim());
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body) => request('POST', path, body === undefined ? {} : body),
  put: (path, body) => request('PUT', path, body),
  patch: (path, body) => request('PATCH', path, body),
  del: (path) => request('DELETE', path),
};

// Encodes one path segment (ids come from the server, but never trust a string into a URL).
export function seg(value) {
  return encodeURIComponent(String(value));
}
