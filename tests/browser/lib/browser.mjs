// Browser test harness for the admin console (/console): a real headless
// Chromium (Debian's `chromium`, never a downloaded one) driven by
// puppeteer-core, with what every console test needs: sign-in through the
// server's own page, a watch on console errors and CSP violations, an axe-core
// scan, screenshots, and role + accessible-name lookups (the names are the
// contract in the console's docs, not CSS classes).
//
// The server comes from the e2e harness (tests/e2e/lib/server.mjs).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { waitFor } from '../../e2e/lib/server.mjs';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? join(REPO, 'build', 'browser-screenshots');
const AXE_SOURCE = readFileSync(join(REPO, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export const WIDE = { width: 1280, height: 900 };
export const NARROW = { width: 360, height: 800 };

/**
 * Launches headless Chromium (`headless: true` is `--headless=new`). The
 * sandbox needs user namespaces that root does not get in a container, so it
 * is turned off for root only. Audio may play without a click (the media test
 * calls play() from a script); puppeteer mutes it.
 */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run scripts/deps.sh (installs Debian's chromium) or set CHROMIUM`);
  }
  const root = process.getuid?.() === 0;
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(root ? ['--no-sandbox'] : []), '--autoplay-policy=no-user-gesture-required', '--disable-dev-shm-usage'],
    defaultViewport: WIDE,
  });
}

// ------------------------------------------------------------ problem watch

/**
 * Records what a page must not produce: console errors (console.error, and
 * Chromium's own error lines such as a refused inline script), uncaught
 * exceptions, CSP violations (the `securitypolicyviolation` event, reported
 * through a CDP binding, which the page's CSP does not govern) and responses
 * of 500 or more. `check(what)` fails on anything recorded since the last
 * check; a test that provokes a problem on purpose takes it with `take()`.
 */
export async function watchPage(page) {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push({ kind: 'console', text: m.text(), url: m.location()?.url ?? '' });
  });
  page.on('pageerror', (e) => problems.push({ kind: 'pageerror', text: String(e?.stack ?? e) }));
  page.on('response', (r) => {
    if (r.status() >= 500) problems.push({ kind: 'http', text: `${r.status()} ${r.request().method()} ${r.url()}` });
  });
  await page.exposeFunction('__verbatimCspViolation', (v) => problems.push({ kind: 'csp', ...v, text: `${v.directive} blocked ${v.blocked} (${v.source})` }));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      // eslint-disable-next-line no-undef -- the binding exposed above
      __verbatimCspViolation({ directive: e.effectiveDirective, blocked: e.blockedURI, source: `${e.sourceFile}:${e.lineNumber}`, sample: e.sample });
    });
  });
  return {
    problems,
    take() {
      return problems.splice(0);
    },
    check(what) {
      const found = problems.splice(0);
      assert.deepEqual(found, [], `${what}: unexpected console errors / CSP violations / 5xx:\n${found.map((p) => `  [${p.kind}] ${p.text}`).join('\n')}`);
    },
  };
}

// ------------------------------------------------------------------ sign-in

/**
 * Opens /console/, which sends a signed-out browser through /console/login to
 * the server's sign-in page; fills it in and waits for the console's first page.
 */
export async function signIn(page, srv, username, password) {
  await page.goto(`${srv.url}/console/`);
  assert.match(new URL(page.url()).pathname, /^\/oauth\/authorize$/, `signed out, /console/ leads to the sign-in page; got ${page.url()}`);
  await page.locator('::-p-aria([name="Username"][role="textbox"])').fill(username);
  await page.locator('::-p-aria(Password)').fill(password);
  await Promise.all([page.waitForNavigation(), page.locator('::-p-aria([name="Sign in"][role="button"])').click()]);
  assert.equal(new URL(page.url()).pathname, '/console/', `after sign-in: ${page.url()}`);
  await waitForHeading(page, 'Overview');
}

// ------------------------------------------------------------- navigation

/** Waits until the page's only <h1> reads `text` and no region is loading (aria-busy). */
export async function waitForHeading(page, text, { timeout = 10_000 } = {}) {
  try {
    await page.waitForFunction((want) => {
      const h = document.querySelectorAll('h1');
      return h.length === 1 && h[0].textContent.trim() === want && !document.querySelector('[aria-busy="true"]');
    }, { timeout }, text);
  } catch (e) {
    const seen = await page.evaluate(() => ({
      h1: [...document.querySelectorAll('h1')].map((h) => h.textContent.trim()),
      busy: [...document.querySelectorAll('[aria-busy="true"]')].map((el) => el.outerHTML.slice(0, 120)),
      alerts: [...document.querySelectorAll('[role="alert"]')].map((el) => el.textContent.trim()),
    }));
    throw new Error(`waiting for <h1>${text}</h1> with nothing busy at ${page.url()}: ${e.message}; seen ${JSON.stringify(seen)}`);
  }
}

/** Goes to a hash route of the console (e.g. '#/clients') and waits for its heading. */
export async function gotoRoute(page, srv, hash, heading) {
  const target = `${srv.url}/console/${hash}`;
  if (page.url().startsWith(`${srv.url}/console/`)) {
    await page.evaluate((h) => { location.hash = h; }, hash);
  } else {
    await page.goto(target);
  }
  await waitForHeading(page, heading);
}

// --------------------------------------------------- role + accessible name

/** The one element with this ARIA role and accessible name (under `root`, default the page). */
export async function byRole(root, role, name, { timeout = 5_000 } = {}) {
  const sel = `::-p-aria([name=${JSON.stringify(name)}][role="${role}"])`;
  const el = await root.waitForSelector(sel, { timeout }).catch((e) => {
    throw new Error(`no ${role} named "${name}": ${e.message}`);
  });
  return el;
}

/** Picks the option of a <select> (found by role combobox/listbox and name) whose text or value matches. */
export async function choose(root, name, match) {
  const sel = await root.waitForSelector(`::-p-aria([name=${JSON.stringify(name)}])`);
  // Options may still be loading (a disabled select): wait for the one wanted, then report what is there if it never comes.
  const page = typeof root.page === 'function' ? root.page() : root;
  await page.waitForFunction((el, m) => el.tagName !== 'SELECT'
    || (!el.disabled && [...el.options].some((x) => x.textContent.trim() === m || x.value === m)), { timeout: 10_000 }, sel, match)
    .catch(() => {});
  const value = await sel.evaluate((el, m) => {
    if (el.tagName !== 'SELECT') return { notSelect: el.tagName };
    const o = [...el.options].find((x) => x.textContent.trim() === m || x.value === m);
    return o ? o.value : { options: [...el.options].map((x) => x.textContent.trim()) };
  }, match);
  if (typeof value !== 'string') throw new Error(`select "${name}" has no option "${match}": ${JSON.stringify(value)}`);
  await sel.select(value);
  return sel;
}

/** Sets the checkboxes of a fieldset (a group named by its legend) so that exactly `wanted` are checked. */
export async function checkExactly(page, groupName, wanted) {
  const group = await byRole(page, 'group', groupName);
  const boxes = await group.$$('input[type="checkbox"]');
  const names = [];
  for (const box of boxes) {
    const name = await box.evaluate((el) => (el.labels?.[0]?.textContent ?? el.getAttribute('aria-label') ?? '').trim());
    names.push(name);
    const on = await box.evaluate((el) => el.checked);
    if (on !== wanted.includes(name)) await box.click();
  }
  for (const w of wanted) assert.ok(names.includes(w), `fieldset "${groupName}" has no checkbox "${w}": ${names.join(', ')}`);
  return names;
}

// ------------------------------------------------------ evidence and checks

/** Saves a full-page PNG as <SCREENSHOT_DIR>/<name>.png. */
export async function screenshot(page, name) {
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Runs axe-core in the page and fails on serious or critical violations. axe
 * is evaluated over CDP (Runtime.evaluate), which the page's CSP
 * (script-src 'self') does not apply to, so the page under test keeps its CSP.
 */
export async function axeScan(page, what) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${what}: axe-core found serious/critical violations:\n` +
    bad.map((v) => `  ${v.id} (${v.impact}): ${v.help}\n    ${v.targets.slice(0, 8).join('\n    ')}`).join('\n'));
  return result;
}

/** The page does not scroll sideways (a 360 px screen: nav wraps, tables scroll in their own box). */
export async function assertNoSidewaysScroll(page, what) {
  const { scroll, width, sticking } = await page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    // What sticks out and is not clipped by a box that scrolls on its own: a box
    // clips what it contains unless that is positioned against an outer box.
    const clipped = (el) => {
      for (let node = el; node && node !== document.body;) {
        const pos = getComputedStyle(node).position;
        if (pos === 'fixed') return false;
        let p = node.parentElement;
        if (pos === 'absolute') while (p && p !== document.body && getComputedStyle(p).position === 'static') p = p.parentElement;
        if (!p || p === document.body) return false;
        if (getComputedStyle(p).overflowX !== 'visible') return true;
        node = p;
      }
      return false;
    };
    const out = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > w + 1 && !clipped(el))
      .slice(0, 5).map((el) => el.outerHTML.slice(0, 100));
    return { scroll: document.documentElement.scrollWidth, width: w, sticking: out };
  });
  assert.ok(scroll <= width, `${what}: the page is ${scroll} px wide in a ${width} px window; sticking out:\n  ${sticking.join('\n  ')}`);
}

export { waitFor };
