// Shared by the browser tests: the real `passdesk serve --demo` on 127.0.0.1:0 with a fresh data
// directory, Debian's Chromium driven by playwright-core, and a small API client.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const SHOTS = join(here, 'screenshots');
export const BIN = process.env.PASSDESK_BIN ?? resolve(here, '../../target/debug/passdesk');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** The first line a started process prints on stdout (its address, as JSON), within 20 s;
 * fails naming `what` if it exits or stays silent. */
export function firstLine(child, what) {
  return new Promise((ok, fail) => {
    const rl = createInterface({ input: child.stdout });
    const timer = setTimeout(() => fail(new Error(`${what} did not start within 20 s`)), 20_000);
    rl.once('line', (l) => {
      clearTimeout(timer);
      ok(l);
    });
    child.once('exit', (code) => fail(new Error(`${what} exited early (${code})`)));
  });
}

/** Starts the service (with `config` as its passdesk.toml, if given, after `prepare(dataDir)`
 * ran, if given: a `passdesk sync join`, say); resolves when it printed its address. */
export async function startServer({ config, prepare } = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run cargo build -p passdesk first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'passdesk-ui-e2e-'));
  if (config) writeFileSync(join(dataDir, 'passdesk.toml'), config);
  if (prepare) prepare(dataDir);
  const child = spawn(BIN, ['serve', '--demo', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, PASSDESK_DATA_DIR: dataDir, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await firstLine(child, 'passdesk serve');
  const ready = JSON.parse(line);
  const base = ready.listening;
  const key = ready.apiKey;
  const server = {
    base,
    key,
    dataDir,
    child,
    async api(method, path, body, headers = {}) {
      const res = await fetch(base + path, {
        method,
        headers: {
          Authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, text };
    },
    /** A new key made by the real CLI (`passdesk keys create`), bound to `readers` if given. */
    createKey(role, { name = `${role} e2e`, readers = [] } = {}) {
      const out = execFileSync(BIN, ['keys', 'create', '--role', role, '--name', name, ...readers.flatMap((r) => ['--reader', r])], {
        env: { ...process.env, PASSDESK_DATA_DIR: dataDir },
        encoding: 'utf8',
      });
      return JSON.parse(out).key;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        // A graceful shutdown ends the event streams of open screens; don't hang if it doesn't.
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

export async function launchBrowser() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** Polls `check` (async) until it gives something truthy, for at most `timeout` ms: for states a
 * test can only ask the service about, not be told of. Fails saying what it waited for. */
export async function until(what, check, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const got = await check();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`waited ${timeout / 1000} s for ${what}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/** A page whose clock is Playwright's (`page.clock`): it runs like the real one until a test moves
 * it (`fastForward`, past the cashier's double-click window, instead of waiting) or holds it
 * (`scannerTypes`). */
export async function clockedPage(browser, width, height) {
  const page = await newPage(browser, width, height);
  await page.clock.install();
  return page;
}

/** What a keyboard-wedge scanner does: the code's keys, then Enter, in one burst. A scanner types
 * a key every few ms, which the screens tell from a person's typing; a test driver on a loaded
 * machine can take longer per key than a person, so the keys go in with the page's clock held:
 * to the screen they come at one instant. Needs a `clockedPage`. */
export async function scannerTypes(page, code) {
  await holdClock(page);
  try {
    await page.keyboard.type(code, { delay: 0 });
    await page.keyboard.press('Enter');
  } finally {
    await page.clock.resume();
  }
}

/** Pauses the page's clock a moment after its present time (`pauseAt` only goes forward; should
 * the clock have passed that moment meanwhile, it is paused already and asked again). */
async function holdClock(page) {
  for (;;) {
    const now = await page.evaluate(() => Date.now());
    try {
      await page.clock.pauseAt(now + 20);
      return;
    } catch (e) {
      if (!/past/.test(String(e))) throw e;
    }
  }
}

/** Opens a screen (`/gate?reader=gate-a`) with the server's key (or `key`) and waits until it is
 * live. */
export async function openScreen(page, server, route, key = server.key) {
  const sep = route.includes('?') ? '&' : '?';
  await page.goto(`${server.base}/#${route}${sep}key=${encodeURIComponent(key)}`);
  await page.waitForSelector('[data-testid="online-badge"].badge-on', { timeout: 10_000 });
}

/** A page that fails the test on a CSP violation or an uncaught error. */
export async function newPage(browser, width = 1920, height = 1080) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) {
      page.problems.push(`console: ${m.text()}`);
    }
  });
  return page;
}

/** The sizes the screens are tried at: a counter's 1024x768 and 1920x1080, and a narrow one (a
 * phone or a small tablet held upright). */
export const SIZES = [
  [1024, 768],
  [1920, 1080],
  [480, 800],
];

/** Screenshots at both sizes the counter must work at. */
export async function shoot(page, name) {
  const size = page.viewportSize();
  for (const [w, h] of [
    [1024, 768],
    [1920, 1080],
  ]) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: join(SHOTS, `${name}-${w}x${h}.png`) });
  }
  await page.setViewportSize(size);
}

/** The enabled buttons, links and fields whose visible part a toast's box meets, as the page is
 * now (each clipped by the scrolling boxes around it and the window), and how many toasts show:
 * a toast must never cover something to press. */
export function coveredByToasts(page) {
  return page.evaluate(() => {
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      let box = { l: r.left, t: r.top, r: r.right, b: r.bottom };
      for (let p = el.parentElement; p; p = p.parentElement) {
        const cs = getComputedStyle(p);
        if (!/(auto|scroll|hidden)/.test(cs.overflowX + cs.overflowY)) continue;
        const q = p.getBoundingClientRect();
        box = { l: Math.max(box.l, q.left), t: Math.max(box.t, q.top), r: Math.min(box.r, q.right), b: Math.min(box.b, q.bottom) };
      }
      box = { l: Math.max(box.l, 0), t: Math.max(box.t, 0), r: Math.min(box.r, innerWidth), b: Math.min(box.b, innerHeight) };
      return box.r > box.l && box.b > box.t ? box : null;
    };
    const meet = (a, b) => a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b;
    const toasts = [...document.querySelectorAll('.toast')].map(visible).filter(Boolean);
    const covered = [];
    for (const el of document.querySelectorAll('button, a[href], input, select')) {
      if (el.disabled) continue;
      const box = visible(el);
      if (box && toasts.some((t) => meet(t, box))) covered.push(el.textContent.trim() || el.getAttribute('aria-label') || el.id);
    }
    return { toasts: toasts.length, covered };
  });
}
