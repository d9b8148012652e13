// Who is signed in, and what their token may do. The session (user, CSRF
// token, the console's client id) is fetched once at start; /api/v2/tokens/me
// is fetched once too and again after a change that may alter it (a fix the
// viewer applied to their own roles). Buttons are enabled from it; the server
// still decides every request.

import { api, setCsrfToken } from './api.js';
import { anyCovers } from './catalog.js';

let current = null;
let mePromise = null;

// GET /console/session; rejects (and leaves for the sign-in page) when signed out.
export async function loadSession() {
  current = await api.get('/console/session');
  setCsrfToken(current.csrfToken);
  return current;
}

export function session() {
  return current;
}

// GET /api/v2/tokens/me, shared by every page until refreshed.
export function me({ refresh = false } = {}) {
  if (!mePromise || refresh) {
    mePromise = api.get('/api/v2/tokens/me');
    mePromise.catch(() => { mePromise = null; });
  }
  return mePromise;
}

// Whether the viewer's effective permissions cover `permission`; false when unknown.
export async function can(permission) {
  try {
    const info = await me();
    return anyCovers(info.effectivePermissions, permission);
  } catch {
    return false;
  }
}

// The first of `permissions` the viewer lacks, or '' when they hold all.
export async function firstMissing(permissions) {
  for (const p of permissions) if (!(await can(p))) return p;
  return '';
}
