// Shared by the browser tests: the real `passdesk serve --demo` on 127.0.0.1:0 with a fresh data
// directory, Debian's Chromium driven by playwright-core, and a small API client.
import { spawn } from 'node:child_process';
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

/** Starts the service (with `config` as its passdesk.toml, if given); resolves when it printed
 * its address. */
export async function startServer({ config } = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run cargo build -p passdesk first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'passdesk-ui-e2e-'));
  if (config) writeFileSync(join(dataDir, 'passdesk.toml'), config);
  const child = spawn(BIN, ['serve', '--demo', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, PASSDESK_DATA_DIR: dataDir, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise((ok, fail) => {
    const rl = createInterface({ input: child.stdout });
    const timer = setTimeout(() => fail(new Error('passdesk serve did not start within 20 s')), 20_000);
    rl.once('line', (l) => {
      clearTimeout(timer);
      ok(l);
    });
    child.once('exit', (code) => fail(new Error(`passdesk serve exited early (${code})`)));
  });
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

/** A page that fails the test on a CSP violation or an uncaught error. */
/** Opens a screen (`/gate?reader=gate-a`) with the server's key and waits until it is live. */
export async function openScreen(page, server, route) {
  const sep = route.includes('?') ? '&' : '?';
  await page.goto(`${server.base}/#${route}${sep}key=${encodeURIComponent(server.key)}`);
  await page.waitForSelector('[data-testid="online-badge"].badge-on', { timeout: 10_000 });
}

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
