// The bench scripts' calls to a verbatim server's public API (Node 20 fetch):
// shared by setup.mjs and changes_setup.mjs.

export const basic = (id, secret) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');

/** A JSON call to `base + path`; throws unless the status is `expect` (when given). */
export async function call(base, method, path, { token, body, expect }) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (expect !== undefined && res.status !== expect) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 400)}`);
  return text ? JSON.parse(text) : {};
}

/** A client-credentials access token. */
export async function token(base, id, secret, scope) {
  const res = await fetch(base + '/oauth/token', {
    method: 'POST',
    headers: { Authorization: basic(id, secret), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`token for ${id}: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** Runs `fn` over `items` with at most `width` calls in flight. */
export async function pool(items, width, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}
