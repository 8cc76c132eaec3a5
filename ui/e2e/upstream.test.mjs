// Browser end-to-end test of the manager's PassEntry panel: a scan log PassEntry refuses shows
// with PassEntry's answer and the two buttons, and "Mark handled" takes it off the panel for good.
// The real `passdesk serve --demo` with `[upstream.passentry]` at the real stand-in binary
// (`passentry-standin --refuse`), Debian Chromium (playwright-core).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { firstLine, launchBrowser, newPage, openScreen, shoot, startServer, until } from './harness.mjs';

const STANDIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../target/debug/passentry-standin');
/** The stand-in's third seeded pass (`seeded_id(3)` / `seeded_barcode(3)`): refused with 422. */
const REFUSED_ID = '00000000-5e3d-4c1a-9b7e-000000000003';
const REFUSED_BARCODE = 'PE-00000003';

let browser;
let standin;
let server;

/** Starts the stand-in with `args`; resolves with its child and what it printed. */
async function startStandin(args) {
  if (!existsSync(STANDIN)) throw new Error(`${STANDIN} is missing: run cargo build --workspace first`);
  const child = spawn(STANDIN, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await firstLine(child, 'passentry-standin');
  return { child, ...JSON.parse(line) };
}

before(async () => {
  standin = await startStandin(['--passes', '5', '--refuse', `${REFUSED_ID}=422`]);
  [browser, server] = await Promise.all([
    launchBrowser(),
    startServer({
      config: `[upstream.passentry]\nbase_url = "${standin.listening}"\napi_key = "${standin.apiKey}"\npull_every_seconds = 0\n`,
    }),
  ]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  standin?.child.kill('SIGKILL');
});

/** `GET /api/v1/upstream`'s document. */
async function upstream() {
  const r = await server.api('GET', '/api/v1/upstream');
  assert.equal(r.status, 200, r.text);
  return r.body;
}

describe('manager: PassEntry requests that need a person', () => {
  test('a refused scan log shows with its answer and both buttons; "Mark handled" takes it off', async () => {
    // The account's passes in the cache, then a scan (whatever its verdict, it is logged at
    // PassEntry) whose log PassEntry refuses.
    assert.equal((await server.api('POST', '/api/v1/upstream/pull')).status, 202);
    await until('the first pull from the stand-in', async () => (await upstream()).data.attributes.lastPullAt);
    const scan = await server.api('POST', '/api/v1/scans', { value: REFUSED_BARCODE, readerId: 'gate-a' });
    assert.equal(scan.status, 201, scan.text);
    await until('the scan log refused', async () => {
      const a = (await upstream()).data.attributes;
      return a.refused === 1 && a.queueLength === 0;
    });

    const page = await newPage(browser);
    await openScreen(page, server, '/manager?reader=desk-1');
    const row = page.locator('[data-testid="upstream-refused"] li[data-state="refused"]');
    await row.waitFor();
    assert.match(await row.locator('.why').textContent(), /^Refused \(422\): pass .* refused by the stand-in/);
    assert.match(await page.textContent('[data-testid="upstream-line"]'), /1 refused/);
    assert.deepEqual(await row.locator('button').allTextContents(), ['Send again', 'Mark handled']);
    await shoot(page, 'manager-upstream-refused');

    await row.locator('button[data-action="handled"]').click();
    await page.locator('[data-testid="upstream-refused"] li').first().waitFor({ state: 'detached' });
    await page.waitForSelector('.toast:has-text("Marked handled")');
    assert.doesNotMatch(await page.textContent('[data-testid="upstream-line"]'), /refused/);
    const after = await upstream();
    assert.equal(after.data.attributes.refused, 0);
    assert.deepEqual(after.included, []);
    await page.close();
  });
});
