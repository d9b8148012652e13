// Hash routes (#/clients/<id>): the server serves one index.html for the whole
// console, so the page, not the server, decides what to show. Each navigation
// renders into a fresh container; work still running for the previous page
// writes into a detached element and is simply lost.

import { parseHash } from './dom.js';

const routes = [];
let onNavigate = () => {};
let first = true;

// pattern: '/clients/:id'; section: the nav entry to mark as current.
export function addRoute(pattern, section, render) {
  const names = [];
  const source = pattern.replace(/:[a-zA-Z]+/g, (m) => { names.push(m.slice(1)); return '([^/]+)'; });
  routes.push({ regex: new RegExp(`^${source}/?$`), names, section, render });
}

function match(path) {
  for (const r of routes) {
    const m = r.regex.exec(path);
    if (!m) continue;
    const params = {};
    r.names.forEach((name, i) => {
      try { params[name] = decodeURIComponent(m[i + 1]); } catch { params[name] = m[i + 1]; }
    });
    return { route: r, params };
  }
  return null;
}

// The page of the current hash, rendered into `main`. notFound renders unknown paths.
function render(main, notFound) {
  const { path, query } = parseHash(window.location.hash);
  const found = match(path);
  const container = document.createElement('div');
  container.className = 'page';
  main.replaceChildren(container);
  onNavigate(found ? found.route.section : '', path);
  (found ? found.route.render : notFound)({ container, params: found ? found.params : {}, query, path });
  const h1 = container.querySelector('h1');
  if (h1) document.title = `${h1.textContent} · verbatim console`;
  // Move focus to the new page's heading so keyboard and screen-reader users
  // start there, except on the first load where the browser's own start is right.
  if (!first && h1) h1.focus({ preventScroll: false });
  first = false;
}

export function startRouter(main, notFound, navigate) {
  onNavigate = navigate;
  window.addEventListener('hashchange', () => render(main, notFound));
  render(main, notFound);
}

// Pages whose <h1> arrives with their data (a client's name) update the title.
export function setTitle(text) {
  document.title = `${text} · verbatim console`;
}
