// The console's entry point: load the session (or go sign in), show who is
// signed in, wire Sign out and the routes, then render the page of the hash.

import { h, fill } from './dom.js';
import { api } from './api.js';
import { loadSession, me } from './session.js';
import { loadCatalog } from './catalog.js';
import { addRoute, startRouter } from './router.js';
import { announce, errorBox, pageTitle, runAction, takeFlash } from './ui.js';
import { renderOverview } from './pages/overview.js';
import { renderClients } from './pages/clients.js';
import { renderClient } from './pages/client.js';
import { renderUsers } from './pages/users.js';
import { renderUser } from './pages/user.js';
import { renderRoles } from './pages/roles.js';
import { renderConversations } from './pages/conversations.js';
import { renderConversation } from './pages/conversation.js';
import { renderAudit } from './pages/audit.js';
import { renderExplorer } from './pages/explorer.js';

addRoute('/', 'overview', renderOverview);
addRoute('/clients', 'clients', renderClients);
addRoute('/clients/:id', 'clients', renderClient);
addRoute('/users', 'users', renderUsers);
addRoute('/users/:id', 'users', renderUser);
addRoute('/roles', 'roles', renderRoles);
addRoute('/conversations', 'conversations', renderConversations);
addRoute('/conversations/:id', 'conversations', renderConversation);
addRoute('/audit', 'audit', renderAudit);
addRoute('/explorer', 'explorer', renderExplorer);

function renderNotFound({ container, path }) {
  fill(container, pageTitle('Page not found'),
    h('p', {}, 'There is no console page at ', h('code', {}, `#${path}`), '.'),
    h('p', {}, h('a', { href: '#/' }, 'Go to the overview')));
}

// Marks the nav entry of the current section with aria-current="page"; a
// navigation replaces the last page's success message with the one meant for
// the new page, if any (a deletion that returned to the list).
function markNav(section) {
  for (const a of document.querySelectorAll('nav[aria-label="Main"] a[data-section]')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  announce(takeFlash());
}

function showWho(s) {
  const user = s.user || {};
  const roles = (user.roles || []).map((r) => r.name).filter(Boolean).join(', ');
  fill(document.getElementById('who'),
    h('span', { class: 'who-name' }, user.username || ''),
    user.displayName && user.displayName !== user.username ? h('span', { class: 'who-display' }, user.displayName) : null,
    roles ? h('span', { class: 'who-roles' }, roles) : null);
}

function wireChrome() {
  // The skip link moves focus to <main> itself: following "#main" would be read as a route.
  document.getElementById('skip-link').addEventListener('click', (ev) => {
    ev.preventDefault();
    document.getElementById('main').focus();
  });
  const signOut = document.getElementById('sign-out');
  signOut.addEventListener('click', () => runAction(signOut, document.getElementById('status'), async () => {
    await api.post('/console/logout');
    window.location.assign('/console/');
  }));
}

async function main() {
  wireChrome();
  const host = document.getElementById('page');
  try {
    const [session] = await Promise.all([loadSession(), loadCatalog()]);
    showWho(session);
  } catch (err) {
    if (err.status !== 401) fill(host, pageTitle('The console could not start'), errorBox(err));
    return;
  }
  me().catch(() => {});  // warm the viewer's permissions for the pages that enable buttons from them
  startRouter(host, renderNotFound, markNav);
}

main();
