// Browser end-to-end tests of the sync banner and the manager's conflict list, against a real
// `passdesk serve --demo` joined to a real `passdesk hub serve` over an SQLite file: the banner
// quiet while the hub answers ("Online · synced …"), loud once it is stopped ("Offline since
// HH:MM · N scans waiting", in the page's local time); a second demo counter that admitted the
// same single-entry ticket before its first contact makes a conflict, which the hub sends down
// and the manager screen lists in words, and the gate shows on the next scan of that ticket.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, firstLine, launchBrowser, newPage, openScreen, shoot, startServer, until } from './harness.mjs';

/** `passdesk hub serve` over an SQLite file on a free loopback port. */
async function startHub() {
  const dir = mkdtempSync(join(tmpdir(), 'passdesk-ui-hub-'));
  const database = `sqlite://${join(dir, 'hub.sqlite')}`;
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' };
  delete env.PASSDESK_HUB_DATABASE;
  const child = spawn(BIN, ['hub', 'serve', '--database', database, '--listen', '127.0.0.1:0'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await firstLine(child, 'passdesk hub serve');
  const base = JSON.parse(line).listening.replace(/\/$/, '');
  return {
    base,
    /** A one-time enrollment token for a counter called `name`. */
    enroll(name) {
      const out = execFileSync(BIN, ['hub', 'enroll', '--database', database, '--name', name], { env, encoding: 'utf8' });
      return JSON.parse(out.trim().split('\n').pop()).token;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `passdesk ARGS…` on a data directory; its last JSON line. */
function passdesk(dataDir, ...args) {
  const out = execFileSync(BIN, args, { env: { ...process.env, PASSDESK_DATA_DIR: dataDir }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

// Short waits after a failure: the counter notices the hub gone (and back) at once.
const SYNC = '[sync]\nretry_min = "100ms"\nretry_max = "500ms"\n';
/** A single-entry festival ticket of the demo (the same id on every demo counter). */
const TICKET = 'HLF-0123';

let hub;
let server;
let browser;

describe('sync on the screens', () => {
  before(async () => {
    hub = await startHub();
    const token = hub.enroll('Gate 1');
    server = await startServer({
      config: SYNC,
      prepare: (dataDir) => {
        passdesk(dataDir, 'demo');
        passdesk(dataDir, 'sync', 'join', hub.base, token);
      },
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await hub?.stop();
    hub?.remove();
  });

  test('the banner: quiet online, loud with the time and the backlog once the hub is gone', async () => {
    const page = await newPage(browser, 1024, 768);
    await openScreen(page, server, '/gate?reader=gate-a');
    const bar = page.getByTestId('sync-banner');
    await until('the banner online', async () => (await bar.getAttribute('data-state')) === 'online');
    assert.match(await bar.innerText(), /^Online · synced (just now|\d+ s ago)/);
    // Everything the demo wrote goes up.
    await until('nothing left to push', async () => {
      const r = await server.api('GET', '/api/v1/sync');
      return r.body.data.attributes.pending === 0;
    });
    await shoot(page, 'sync-online');

    await hub.stop();
    // Scans go on while the hub is away, and wait.
    for (const code of ['HLF-0201', 'HLF-0202']) {
      const r = await server.api('POST', '/api/v1/scans', { value: code, readerId: 'gate-a', medium: 'qr' });
      assert.equal(r.status, 201, r.text);
    }
    await until('the banner offline', async () => (await bar.getAttribute('data-state')) === 'offline', 40_000);
    const s = (await server.api('GET', '/api/v1/sync')).body.data.attributes;
    const since = await page.evaluate((iso) => {
      const d = new Date(iso);
      return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    }, s.offlineSince);
    await until('the backlog on the banner', async () => /\b2 scans waiting$|\b[3-9]\d* scans waiting$/.test(await bar.innerText()));
    assert.match(await bar.innerText(), new RegExp(`^Offline since ${since} · \\d+ scans? waiting$`));
    // The same banner on every screen.
    await openScreen(page, server, '/cashier?reader=till-1');
    assert.match(await page.getByTestId('sync-banner').innerText(), /^Offline since /);
    await shoot(page, 'sync-offline');
    assert.deepEqual(page.problems, []);
  });

  test('a counter without a hub shows no banner', async () => {
    const plain = await startServer();
    try {
      const page = await newPage(browser, 1024, 768);
      await openScreen(page, plain, '/gate?reader=gate-a');
      // The first read of the state has come back (and said: not joined).
      await page.waitForSelector('[data-testid="sync-banner"][data-state="hidden"]', { state: 'attached' });
      assert.equal(await page.getByTestId('sync-banner').isHidden(), true);
      assert.deepEqual(page.problems, []);
    } finally {
      await plain.stop();
    }
  });
});

describe('conflicts on the screens', () => {
  let other;
  before(async () => {
    hub = await startHub();
    const token = hub.enroll('Gate 1');
    server = await startServer({
      config: SYNC,
      prepare: (dataDir) => {
        passdesk(dataDir, 'demo');
        passdesk(dataDir, 'sync', 'join', hub.base, token);
      },
    });
    // A second demo counter, joined but not yet in contact: what it decides now is offline.
    other = mkdtempSync(join(tmpdir(), 'passdesk-ui-other-'));
    passdesk(other, 'demo');
    passdesk(other, 'sync', 'join', hub.base, hub.enroll('Gate 2'));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await hub?.stop();
    hub?.remove();
    rmSync(other, { recursive: true, force: true });
  });

  test('a double admission is listed for the manager in words and shown at the gate', async () => {
    // Gate 1 admits the ticket and pushes it; Gate 2 admitted it too, before its first contact.
    const first = await server.api('POST', '/api/v1/scans', { value: TICKET, readerId: 'gate-a', medium: 'qr' });
    assert.equal(first.body.data.attributes.verdict, 'accept', first.text);
    await until('Gate 1 pushed its admission', async () => (await server.api('GET', '/api/v1/sync')).body.data.attributes.pending === 0);
    const second = passdesk(other, 'scan', TICKET, '--reader', 'gate-b', '--medium', 'qr');
    assert.equal(second.verdict, 'accept', JSON.stringify(second));
    passdesk(other, 'sync', 'now');

    const page = await newPage(browser, 1024, 768);
    await openScreen(page, server, '/manager');
    const list = page.getByTestId('sync-conflicts');
    await until('the conflict listed', async () => (await list.locator('li[data-kind="doubleAdmission"]').count()) > 0, 40_000);
    const item = list.locator('li[data-kind="doubleAdmission"]').first();
    const text = await item.innerText();
    assert.match(text, /Admitted twice/);
    assert.match(text, /First: Gate 1 .*at \d\d:\d\d/);
    assert.match(text, /Then: Gate 2 .*at \d\d:\d\d, offline/);
    assert.match(await page.getByTestId('conflict-count').innerText(), /^1 conflict found by the hub/);
    await shoot(page, 'sync-conflicts');

    // The next scan of that ticket, at the other gate, is refused and carries the conflict's
    // words, in the warning colour.
    await openScreen(page, server, '/gate?reader=gate-b');
    const r = await server.api('POST', '/api/v1/scans', { value: TICKET, readerId: 'gate-b', medium: 'qr' });
    assert.equal(r.body.data.attributes.verdict, 'reject', r.text);
    assert.ok(r.body.data.attributes.conflict, `the decision carries the conflict: ${r.text}`);
    await page.waitForSelector('[data-testid="gate-panel"][data-outcome="reject"]');
    const words = page.getByTestId('gate-conflict');
    await words.waitFor({ timeout: 10_000 });
    assert.ok((await words.innerText()).length > 0);
    const bg = await words.evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(bg, 'rgb(255, 176, 0)', 'the warning colour');
    await shoot(page, 'sync-gate-conflict');
    assert.deepEqual(page.problems, []);
  });
});
