// Browser end-to-end tests: Debian Chromium (playwright-core) against the real
// `passdesk serve --demo` binary. Run by `npm test` (node's test runner) after
// `cargo build -p passdesk` and `npm run build`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clockedPage, launchBrowser, newPage, openScreen, scannerTypes, shoot, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const open = (page, route) => openScreen(page, server, route);

const rgb = (page, sel) => page.$eval(sel, (el) => getComputedStyle(el).backgroundColor);
const GREEN = 'rgb(0, 135, 60)';
const RED = 'rgb(200, 16, 46)';

describe('serving', () => {
  test('the app, its assets and its sounds, with types and a CSP; app routes fall back to it', async () => {
    const index = await fetch(server.base + '/');
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type'), /^text\/html/);
    assert.match(index.headers.get('content-security-policy'), /default-src 'self'/);
    const html = await index.text();
    const js = html.match(/src="(\/assets\/[^"]+\.js)"/)[1];
    const asset = await fetch(server.base + js);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type'), /^text\/javascript/);
    const wav = await fetch(server.base + '/sounds/accept.wav');
    assert.equal(wav.headers.get('content-type'), 'audio/wav');
    assert.equal((await fetch(server.base + '/cashier')).status, 200);
    assert.equal((await fetch(server.base + '/assets/nope.js')).status, 404);
    const api404 = await fetch(server.base + '/api/v1/nope');
    assert.equal(api404.status, 404);
    assert.match(api404.headers.get('content-type'), /json/);
  });
});

describe('entry gate', () => {
  test('(a) a scan posted to the API shows on the gate, in its colour and words', async () => {
    const page = await newPage(browser);
    await open(page, '/gate?reader=gate-a');
    assert.ok(!(await page.evaluate(() => location.hash)).includes('key='), 'the key leaves the address bar');
    await shoot(page, 'gate-idle');
    // Drawn, in its colour and words. (How fast is a benchmark's question, not a test's.)
    const ok = await server.api('POST', '/api/v1/scans', { value: 'HLF-0001', readerId: 'gate-a' });
    assert.equal(ok.status, 201);
    const id = ok.body.data.id;
    await page.waitForSelector(`[data-testid="gate-panel"][data-scan-id="${id}"]`);
    assert.equal(await page.getAttribute('[data-testid="gate-panel"]', 'data-outcome'), 'accept');
    assert.equal(await rgb(page, '[data-testid="gate-panel"]'), GREEN);
    assert.match(await page.textContent('[data-testid="gate-panel"]'), /GO/);
    await shoot(page, 'gate-accept');

    // Someone passes the same ticket back: gate B admits nobody, gate A hears about it.
    const b = await server.api('POST', '/api/v1/scans', { value: 'HLF-0001', readerId: 'gate-b' });
    assert.equal(b.body.data.attributes.reason, 'already_used');
    const again = await server.api('POST', '/api/v1/scans', { value: 'HLF-0001', readerId: 'gate-a' });
    const againId = again.body.data.id;
    // (the same reader inside the duplicate window repeats its first answer; a third gate
    // read after gate B is a fresh decision)
    await page.waitForSelector(`[data-testid="gate-panel"][data-scan-id="${againId}"]`);
    const d = again.body.data.attributes;
    if (d.verdict === 'reject') {
      assert.equal(await rgb(page, '[data-testid="gate-panel"]'), RED);
    }
    const wrong = await server.api('POST', '/api/v1/scans', { value: 'JAZZ-001', readerId: 'gate-a' });
    await page.waitForSelector(`[data-testid="gate-panel"][data-scan-id="${wrong.body.data.id}"]`);
    assert.equal(await page.getAttribute('[data-testid="gate-panel"]', 'data-outcome'), 'reject');
    assert.equal(await rgb(page, '[data-testid="gate-panel"]'), RED);
    assert.match(await page.textContent('[data-testid="gate-reason"]'), /Wrong event/);
    // Gate A's own scans (gate B's is not this gate's).
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="last-scans"] li').length >= 3);
    await shoot(page, 'gate-reject');

    // Amber: admitted, but the holder removed the pass from their wallet (a screenshot).
    await page.goto(`${server.base}/#/gate?reader=till-1`);
    const warn = await server.api('POST', '/api/v1/scans', { value: 'BEAN-0033', readerId: 'till-1' });
    assert.deepEqual(warn.body.data.attributes.warnings, ['removed_from_wallet']);
    await page.waitForSelector(`[data-testid="gate-panel"][data-scan-id="${warn.body.data.id}"]`);
    assert.equal(await page.getAttribute('[data-testid="gate-panel"]', 'data-outcome'), 'warning');
    assert.equal(await rgb(page, '[data-testid="gate-panel"]'), 'rgb(255, 176, 0)');
    await shoot(page, 'gate-warning');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('(b) a manager issues a pass; its QR value typed by a wedge scanner is accepted, then "Already used"', async () => {
    const page = await clockedPage(browser);
    await open(page, '/manager?reader=gate-a');
    await page.waitForSelector('[data-testid="issue-template"] option[value="tpl-hlf-ticket"]', { state: 'attached' });
    await page.selectOption('[data-testid="issue-template"]', 'tpl-hlf-ticket');
    await page.waitForSelector('[data-testid="issue-event"] option[value="ev-harbour-lights"]', { state: 'attached' });
    await page.selectOption('[data-testid="issue-event"]', 'ev-harbour-lights');
    await page.fill('[data-testid="issue-name"]', 'Ada Lovelace');
    await page.fill('[data-testid="issue-email"]', 'ada@example.org');
    await page.click('[data-testid="issue-submit"]');
    await page.waitForSelector('[data-testid="issued"] svg.qr');
    const value = (await page.textContent('[data-testid="qr-value"]')).trim();
    assert.match(value, /^PD1\./, 'the barcode is a signed PD1 token');
    await shoot(page, 'manager-issued');

    // The gate: no mouse; the scanner types into whatever has focus and ends with Enter.
    await page.goto(`${server.base}/#/gate?reader=gate-a`);
    await page.waitForSelector('[data-testid="online-badge"].badge-on');
    await page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : null));
    await scannerTypes(page, value);
    await page.waitForSelector('[data-testid="gate-panel"][data-outcome="accept"]');
    assert.match(await page.textContent('[data-testid="gate-panel"]'), /Ada Lovelace/);
    assert.equal(await rgb(page, '[data-testid="gate-panel"]'), GREEN);

    // The same code at gate B (the reader chosen in the URL): refused, with when and where.
    await page.goto(`${server.base}/#/gate?reader=gate-b`);
    await page.waitForSelector('[data-testid="online-badge"].badge-on');
    await scannerTypes(page, value);
    await page.waitForSelector('[data-testid="gate-panel"][data-outcome="reject"]');
    const reason = await page.textContent('[data-testid="gate-reason"]');
    assert.match(reason, /^Already used \d{2}:\d{2} at Gate A$/);
    assert.equal(await rgb(page, '[data-testid="gate-panel"]'), RED);
    assert.equal(await page.inputValue('[data-testid="scan-input"]'), '', 'the scan box is cleared for the next one');
    const log = (await server.api('GET', '/api/v1/scans?readerId=gate-b&limit=1')).body.data[0].attributes;
    assert.equal(log.medium, 'qr', 'a scanner burst is logged as a QR read, not manual entry');

    // The manager finds the pass, sees its history, and voids it.
    await page.goto(`${server.base}/#/manager?reader=gate-b`);
    await page.fill('[data-testid="search-input"]', 'Ada');
    await page.press('[data-testid="search-input"]', 'Enter');
    await page.waitForSelector('[data-testid="search-results"] tr[data-pass] >> text=Ada Lovelace');
    await page.click('[data-testid="search-results"] [data-action="void"]');
    await page.click('[data-testid="search-results"] [data-action="void"]');
    await page.waitForSelector('[data-testid="search-results"] .pass-status-voided');
    await shoot(page, 'manager-search');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe('cashier', () => {
  test('(c) a reward redeemed with a double click is redeemed once', async () => {
    const page = await clockedPage(browser);
    await open(page, '/cashier?reader=till-1');
    await scannerTypes(page, 'BEAN-0005');
    await page.waitForSelector('[data-testid="cashier-card"] [data-tier="£5 off"]');
    const passId = (await server.api('GET', '/api/v1/scans?readerId=till-1&limit=1')).body.data[0].attributes.passId;
    const before = (await server.api('GET', `/api/v1/passes/${passId}/loyalty`)).body;
    await shoot(page, 'cashier');

    // Add points for 12.50 and a stamp, each with a double click: each counts once.
    await page.fill('[data-testid="amount-input"]', '12.50');
    await page.dblclick('[data-action^="earn"]');
    await page.waitForSelector('.toast >> text=Points added');
    await page.dblclick('[data-action="stamp"]');
    await page.waitForSelector('.toast >> text=Stamp added');

    // A stamp whose answer is lost on the way back: the service did it, the till saw nothing.
    // The retry sends the same Idempotency-Key, so the service answers the first result.
    const keys = [];
    await page.route('**/loyalty/stamps', async (route) => {
      keys.push(route.request().headers()['idempotency-key']);
      if (keys.length === 1) {
        await route.fetch(); // reaches the service...
        await route.abort('connectionreset'); // ...but the answer never arrives
      } else {
        await route.continue();
      }
    });
    await page.clock.fastForward(900); // a new intent, not the tail of the double click above
    await page.click('[data-action="stamp"]');
    await page.waitForSelector('[data-action="stamp"] >> text=retry');
    assert.match(await page.textContent('[data-testid="online-badge"]'), /Offline/, 'a failed call shows the badge');
    await page.clock.fastForward(900); // past the double-click window: this is a deliberate retry
    await page.click('[data-action="stamp"]');
    await page.waitForSelector('.toast >> text=Stamp added (already done)');
    await page.unroute('**/loyalty/stamps');
    assert.equal(keys.length, 2);
    assert.match(keys[0], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(keys[1], keys[0], 'the retry reuses the key');

    await page.click('[data-tier="£5 off"]');
    await page.waitForSelector('[data-testid="confirm-yes"]');
    await shoot(page, 'cashier-confirm');
    await page.dblclick('[data-testid="confirm-yes"]');
    await page.waitForSelector('.toast >> text=Redeemed');
    await page.waitForSelector('[data-testid="confirm"]', { state: 'hidden' });

    const afterDoc = (await server.api('GET', `/api/v1/passes/${passId}/loyalty`)).body;
    const kinds = (doc) => doc.included.map((e) => e.attributes.kind);
    const count = (doc, k) => kinds(doc).filter((x) => x === k).length;
    assert.equal(count(afterDoc, 'reward_redeem') - count(before, 'reward_redeem'), 1, 'one redemption');
    assert.equal(count(afterDoc, 'earn') - count(before, 'earn'), 1, 'one earn');
    assert.equal(count(afterDoc, 'stamp') - count(before, 'stamp'), 2, 'one stamp per intent: double click, lost answer');
    const b0 = before.data.attributes.balance;
    assert.equal(afterDoc.data.attributes.balance, b0 + 12 - 50);
    await page.waitForFunction(
      (want) => document.querySelector('[data-testid="balance"]')?.textContent === String(want),
      b0 + 12 - 50,
    );
    await shoot(page, 'cashier-after');

    // The next customer's card scanned while the amount field has focus goes to the scan box.
    const first = await page.textContent('[data-testid="holder"]');
    await page.focus('[data-testid="amount-input"]');
    await scannerTypes(page, 'BEAN-0001');
    await page.waitForFunction((was) => document.querySelector('[data-testid="holder"]')?.textContent !== was, first);
    assert.equal(await page.inputValue('[data-testid="amount-input"]'), '');

    // The manager sees it in the pass's loyalty history.
    await page.goto(`${server.base}/#/manager?reader=till-1`);
    await page.fill('[data-testid="search-input"]', 'BEAN-0005');
    await page.press('[data-testid="search-input"]', 'Enter');
    await page.click(`[data-testid="search-results"] tr[data-pass="${passId}"] >> text=History`);
    await page.waitForSelector('[data-testid="history"] tr[data-kind="reward_redeem"]');
    assert.equal((await page.$$('[data-testid="history"] tr[data-kind="reward_redeem"]')).length, 1);
    await shoot(page, 'manager-history');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe('status and offline', () => {
  test('the status screen, then the offline badge (never a modal) when the service stops', async () => {
    const page = await newPage(browser);
    await open(page, '/status?reader=gate-a');
    await page.waitForSelector('[data-testid="status-facts"] dt');
    assert.match(await page.textContent('[data-testid="status-facts"]'), /Passes in cache\s*46\d/);
    await shoot(page, 'status');
    await page.goto(`${server.base}/#/gate?reader=gate-a`);
    await page.waitForSelector('[data-testid="online-badge"].badge-on');
    await server.stop();
    await page.waitForSelector('[data-testid="online-badge"].badge-off', { timeout: 10_000 });
    assert.equal(await page.$('dialog[open], [role="dialog"]'), null);
    await shoot(page, 'gate-offline');
    await page.context().close();
  });
});
