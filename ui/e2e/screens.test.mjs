// Browser end-to-end tests of what each screen promises a person at the counter: a gate worked
// with a scanner alone, the cashier's undo and the amount field, the manager's search, history,
// today's scans and printout, the status screen's devices, and the layout at both sizes.
// Debian Chromium (playwright-core) against the real `passdesk serve --demo`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { BIN, clockedPage, coveredByToasts, launchBrowser, openScreen, scannerTypes, shoot, SHOTS, SIZES, startServer, until } from './harness.mjs';

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

/** What a keyboard-wedge scanner does (every page here is a `clockedPage`). */
const wedge = scannerTypes;

const lastScan = async (reader) => (await server.api('GET', `/api/v1/scans?readerId=${reader}&limit=1`)).body.data[0]?.attributes;
const ledger = async (passId) => (await server.api('GET', `/api/v1/passes/${passId}/loyalty`)).body;
const kinds = (doc, k) => doc.included.map((e) => e.attributes).filter((e) => e.kind === k);
const num = async (page, id) => Number(await page.textContent(`[data-testid="${id}"]`));
const fontPx = (page, sel) => page.$eval(sel, (el) => parseFloat(getComputedStyle(el).fontSize));

describe('entry gate with a scanner and no mouse', () => {
  test('codes are decided wherever focus is, even with a toast up; reasons in words; counters; last 10', async () => {
    const page = await clockedPage(browser, 1024, 768);
    // Counters come from the service's totals of this reader's day, not from what this screen saw.
    await server.api('POST', '/api/v1/scans', { value: 'HLF-0003', readerId: 'gate-a' });
    await open(page, '/gate?reader=gate-a');
    await page.waitForFunction(() => document.querySelector('[data-testid="count-admitted"]')?.textContent !== '0');
    const admitted0 = await num(page, 'count-admitted');
    const refused0 = await num(page, 'count-refused');

    // Focus on a link in the header (as after a click): the scanner's keys still go to the scan
    // box, and its Enter scans instead of following the link.
    await page.focus('nav a[href^="#/cashier"]');
    await wedge(page, 'HLF-0002');
    await page.waitForSelector('[data-testid="gate-panel"][data-outcome="accept"]');
    assert.match(await page.evaluate(() => location.hash), /^#\/gate/, 'still on the gate');

    // A toast is up (this station now scans as gate B): focus is back in the scan box.
    await page.fill('[data-testid="reader-input"]', 'gate-b');
    await page.press('[data-testid="reader-input"]', 'Enter');
    await page.waitForSelector('.toast >> text=scans as reader gate-b');
    await wedge(page, 'HLF-0040');
    await page.waitForSelector('[data-testid="gate-panel"][data-outcome="reject"]');
    assert.match(await page.textContent('[data-testid="gate-reason"]'), /^Voided since .*\d{2}:\d{2}$/);
    assert.doesNotMatch(await page.textContent('[data-testid="gate-reason"]'), /UTC/, 'times in local time');
    await page.fill('[data-testid="reader-input"]', 'gate-a');
    await page.press('[data-testid="reader-input"]', 'Enter');
    await page.waitForSelector('.toast >> text=scans as reader gate-a');

    // Focus nowhere (the page itself).
    await page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : null));
    await wedge(page, 'BEAN-0025');
    await page.waitForFunction(() => /^Expired/.test(document.querySelector('[data-testid="gate-reason"]')?.textContent ?? ''));
    await wedge(page, 'JAZZ-002');
    await page.waitForFunction(() => /^Wrong event/.test(document.querySelector('[data-testid="gate-reason"]')?.textContent ?? ''));
    await wedge(page, 'NOPE-1234');
    await page.waitForFunction(() => /unknown|not known|no pass/i.test(document.querySelector('[data-testid="gate-reason"]')?.textContent ?? ''));
    await shoot(page, 'gate-reject-words');

    // The verdict and its reason are in view, whatever the list beside them holds.
    const bottom = await page.$eval('[data-testid="gate-reason"]', (el) => el.getBoundingClientRect().bottom);
    assert.ok(bottom <= 768, `the reason ends at ${bottom} px, below the screen`);
    // Readable from 3 m: the verdict and the reason in big type even at 1024x768.
    assert.ok((await fontPx(page, '[data-testid="gate-panel"] .verdict')) >= 120, 'verdict word at least 120 px');
    assert.ok((await fontPx(page, '[data-testid="gate-reason"]')) >= 48, 'reason at least 48 px');

    // Gate A's counters today: one admitted, three refused more than before (the voided ticket
    // was gate B's), and the service agrees.
    await page.waitForFunction(
      ([a, r]) =>
        document.querySelector('[data-testid="count-admitted"]')?.textContent === String(a) &&
        document.querySelector('[data-testid="count-refused"]')?.textContent === String(r),
      [admitted0 + 1, refused0 + 3],
    );
    const totals = (await server.api('GET', '/api/v1/scans/today?readerId=gate-a&limit=1')).body.meta.totals;
    assert.deepEqual([totals.accepted, totals.rejected], [admitted0 + 1, refused0 + 3]);

    // Last 10 scans: never more than ten, newest first.
    for (let i = 10; i < 17; i++) await wedge(page, `HLF-00${i}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="last-scans"] li').length === 10);
    const seen = await until('HLF-0016 as gate-a\'s last scan: every code typed scanned, in order', async () => {
      const last = await lastScan('gate-a');
      return last?.value === 'HLF-0016' && last;
    });
    await page.waitForSelector(`[data-testid="gate-panel"][data-scan-id="${seen.id}"]`);
    assert.equal(await page.$$eval('[data-testid="last-scans"] li', (l) => l.length), 10);
    assert.equal(seen.medium, 'qr', 'a scanner burst is logged as a scan, not typing');
    await shoot(page, 'gate-last-10');
    const after10 = await page.$eval('[data-testid="gate-reason"]', (el) => el.getBoundingClientRect().bottom);
    assert.ok(after10 <= 768, `with 10 scans listed the reason ends at ${after10} px`);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe('cashier', () => {
  test('undo the last action: reversed once on a double tap, with its own Idempotency-Key', async () => {
    const page = await clockedPage(browser, 1024, 768);
    await open(page, '/cashier?reader=till-1');
    await wedge(page, 'BEAN-0002');
    await page.waitForSelector('[data-testid="balance"]');
    const passId = (await lastScan('till-1')).passId;
    const balance0 = await num(page, 'balance');

    const keys = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && /\/loyalty\//.test(r.url())) keys.push([new URL(r.url()).pathname, r.headers()['idempotency-key']]);
    });
    await page.fill('[data-testid="amount-input"]', '20');
    await page.click('[data-action^="earn"]');
    await page.waitForFunction((b) => document.querySelector('[data-testid="balance"]')?.textContent === String(b + 20), balance0);
    await page.waitForSelector('[data-testid="undo"] >> text=Undo +20 points');
    await shoot(page, 'cashier-undo');
    await page.dblclick('[data-testid="undo"]');
    await page.waitForSelector('.toast >> text=Undone: +20 points');
    await page.waitForSelector('[data-testid="undo"]', { state: 'detached' });
    await page.waitForFunction((b) => document.querySelector('[data-testid="balance"]')?.textContent === String(b), balance0);

    const doc = await ledger(passId);
    const earn = kinds(doc, 'earn').at(-1);
    const reverses = kinds(doc, 'reverse');
    assert.equal(reverses.length, 1, 'the double tap reversed once');
    assert.equal(reverses[0].reverses, earn.id, 'the earn just made is what was undone');
    assert.notEqual(reverses[0].opId, earn.opId, 'the undo is its own operation');
    const undoKeys = keys.filter(([p]) => p.endsWith('/reverse'));
    assert.equal(undoKeys.length, 1);
    assert.equal(undoKeys[0][1], reverses[0].opId, 'sent with its own Idempotency-Key');
    assert.equal(doc.data.attributes.balance, balance0);

    // A stamp, then undo: the stamp is gone again.
    const stamps0 = Number(await page.getAttribute('[data-testid="stamps"]', 'data-stamps'));
    await page.clock.fastForward(900); // past the double-click window of the undo: a new intent
    await page.click('[data-action="stamp"]');
    await page.waitForSelector('[data-testid="undo"] >> text=Undo +1 stamp');
    await page.click('[data-testid="undo"]');
    await page.waitForSelector('.toast >> text=Undone: +1 stamp');
    await page.waitForFunction((s) => document.querySelector('[data-testid="stamps"]')?.getAttribute('data-stamps') === String(s), stamps0);
    assert.equal(kinds(await ledger(passId), 'reverse').length, 2);

    // The next customer: nothing of the last one's to undo.
    await page.fill('[data-testid="amount-input"]', '3');
    await page.press('[data-testid="amount-input"]', 'Enter');
    await page.waitForSelector('[data-testid="undo"]');
    await wedge(page, 'BEAN-0003');
    await page.waitForFunction(() => !document.querySelector('[data-testid="undo"]') && document.querySelector('[data-testid="balance"]'));
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('a scanner firing into the amount field scans the code; nobody earns 40 million points', async () => {
    const page = await clockedPage(browser, 1024, 768);
    await open(page, '/cashier?reader=till-1');
    await wedge(page, 'BEAN-0004');
    await page.waitForSelector('[data-testid="amount-input"]');
    const passId = (await lastScan('till-1')).passId;
    const earns0 = kinds(await ledger(passId), 'earn').length;
    // The cashier has typed part of an amount by hand, then a customer's card is scanned.
    await page.click('[data-testid="amount-input"]');
    await page.keyboard.type('7', { delay: 120 });
    await page.clock.fastForward(150); // the person's key, then a pause, then the scanner's burst
    await wedge(page, '4006381333931');
    await page.waitForFunction(() => document.querySelector('[data-testid="cashier-banner"]')?.getAttribute('data-outcome') === 'reject');
    const scan = await lastScan('till-1');
    assert.equal(scan.value, '4006381333931', 'the code went to the scan box whole');
    assert.equal(kinds(await ledger(passId), 'earn').length, earns0, 'no points added');
    // And a person typing an amount and Enter still adds points.
    await wedge(page, 'BEAN-0004');
    await page.waitForSelector('[data-testid="amount-input"]');
    await page.click('[data-testid="amount-input"]');
    await page.keyboard.type('4.50', { delay: 90 });
    await page.keyboard.press('Enter');
    await page.waitForSelector('.toast >> text=Points added for 4.50');
    assert.equal(kinds(await ledger(passId), 'earn').length, earns0 + 1);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('a scan while the redeem confirmation is open closes it and redeems nothing', async () => {
    const page = await clockedPage(browser, 1024, 768);
    await open(page, '/cashier?reader=till-1');
    await wedge(page, 'BEAN-0005');
    await page.waitForSelector('[data-testid="cashier-card"] [data-tier]');
    const passId = (await lastScan('till-1')).passId;
    const holder0 = await page.textContent('[data-testid="holder"]');
    const before = kinds(await ledger(passId), 'reward_redeem').length;
    // Escape cancels the confirmation, and the scan box has the focus again.
    await page.click('[data-testid="cashier-card"] [data-tier]');
    await page.waitForSelector('[data-testid="confirm-yes"]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="confirm"]', { state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'scan-input');
    // The next customer's card scanned while the question is up: it goes, the card shows.
    await page.click('[data-testid="cashier-card"] [data-tier]');
    await page.waitForSelector('[data-testid="confirm-yes"]');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'confirm-yes');
    await wedge(page, 'BEAN-0001');
    await page.waitForSelector('[data-testid="confirm"]', { state: 'hidden' });
    await page.waitForFunction((was) => document.querySelector('[data-testid="holder"]')?.textContent !== was, holder0);
    assert.equal((await lastScan('till-1')).value, 'BEAN-0001');
    assert.equal(kinds(await ledger(passId), 'reward_redeem').length, before, 'nothing redeemed');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe('manager', () => {
  test('search by name, email, extId and code; history with scans; today with offline flags; printable QR', async () => {
    const page = await clockedPage(browser);
    await open(page, '/manager?reader=desk-9');
    await page.waitForSelector('[data-testid="issue-template"] option[value="tpl-hlf-ticket"]', { state: 'attached' });
    await page.selectOption('[data-testid="issue-template"]', 'tpl-hlf-ticket');
    await page.selectOption('[data-testid="issue-event"]', 'ev-harbour-lights');
    await page.fill('[data-testid="issue-name"]', 'Grace Hopper');
    await page.fill('[data-testid="issue-email"]', 'grace.hopper@navy.example');
    await page.click('[data-testid="issue-submit"]');
    await page.waitForSelector('[data-testid="issued"] svg.qr');
    const value = (await page.textContent('[data-testid="qr-value"]')).trim();
    // Large on screen: the QR code is at least 400 px wide at 1920x1080.
    const qrBox = await page.$eval('[data-testid="issued"] svg.qr', (el) => el.getBoundingClientRect().width);
    assert.ok(qrBox >= 400, `QR is ${qrBox} px wide`);

    // Printable: only the pass card is printed, its QR about 12 cm wide.
    await page.emulateMedia({ media: 'print' });
    for (const sel of ['header.top', '.finder', '.today', 'form.issue', '.issued .row']) {
      assert.equal(await page.isVisible(sel), false, `${sel} is not printed`);
    }
    assert.ok(await page.isVisible('[data-testid="issued"] svg.qr'));
    const printed = await page.$eval('[data-testid="issued"] svg.qr', (el) => el.getBoundingClientRect().width);
    assert.ok(printed > 400 && printed < 500, `printed QR is ${printed} px (12 cm = 454 px)`);
    await page.screenshot({ path: new URL('./screenshots/manager-print.png', import.meta.url).pathname, fullPage: true });
    await page.emulateMedia({ media: 'screen' });

    // The pass scanned at a gate, and a token of a pass no counter has cached (offline check-in).
    await server.api('POST', '/api/v1/scans', { value, readerId: 'gate-a', medium: 'qr' });
    const out = execFileSync(BIN, ['token', 'issue', 'ELSEWHERE-7', '--template', 'tpl-hlf-ticket', '--event', 'ev-harbour-lights'], {
      env: { ...process.env, PASSDESK_DATA_DIR: server.dataDir },
      encoding: 'utf8',
    });
    const token = out.match(/PD1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/)[0];
    const viaToken = await server.api('POST', '/api/v1/scans', { value: token, readerId: 'gate-a', medium: 'qr' });
    assert.equal(viaToken.body.data.attributes.verdict, 'accept');

    // Today's scans, live, with the flag a manager checks after the network was down.
    await page.waitForSelector(`[data-testid="today-scans"] tr[data-scan="${viaToken.body.data.id}"][data-flags~="offline"]`);
    assert.match(await page.textContent(`[data-testid="today-scans"] tr[data-scan="${viaToken.body.data.id}"]`), /Offline: by signature/);
    assert.match(await page.textContent('[data-testid="today-totals"]'), /\d+ admitted · \d+ refused/);

    // Search by each: name, email, extId, code.
    const ext = (await server.api('GET', `/api/v1/passes?search=${encodeURIComponent('grace.hopper')}`)).body.data[0];
    assert.ok(ext, 'the API finds the pass by email');
    for (const q of ['Grace Hop', 'grace.hopper@navy', value.slice(0, 24), ext.id.slice(0, 8)]) {
      await page.fill('[data-testid="search-input"]', q);
      await page.press('[data-testid="search-input"]', 'Enter');
      await page.waitForSelector(`[data-testid="search-results"] tr[data-pass="${ext.id}"]`);
    }
    await page.fill('[data-testid="search-input"]', 'HLF-ORDER-1001');
    await page.press('[data-testid="search-input"]', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="search-results"] tr[data-pass]').length === 1);

    // History: the pass's scans (where and when) and its loyalty.
    await page.fill('[data-testid="search-input"]', 'Grace Hopper');
    await page.press('[data-testid="search-input"]', 'Enter');
    await page.click(`[data-testid="search-results"] tr[data-pass="${ext.id}"] >> text=History`);
    await page.waitForSelector('[data-testid="history"] tr[data-scan]');
    assert.match(await page.textContent('[data-testid="history"]'), /gate-a/);
    await shoot(page, 'manager-today');

    // A code scanned on the manager screen is answered in a toast; the form keeps its focus rules.
    await page.focus('[data-testid="issue-template"]');
    await wedge(page, value);
    await page.waitForSelector('.toast >> text=Refused: Already used');
    assert.equal(await page.inputValue('[data-testid="issue-template"]'), 'tpl-hlf-ticket', 'the scan did not change the template');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe('status', () => {
  test('devices connected or not, readers, version', async () => {
    const page = await clockedPage(browser, 1024, 768);
    await open(page, '/status');
    await page.waitForSelector('[data-testid="status-devices"] > *');
    const st = (await server.api('GET', '/api/v1/status')).body.data.attributes;
    assert.ok(Array.isArray(st.devices));
    const text = await page.textContent('[data-testid="status-devices"]');
    if (st.devices.length === 0) assert.match(text, /No reader or camera attached/);
    else assert.match(text, /Connected|Not connected/);
    assert.match(await page.textContent('[data-testid="status-facts"]'), new RegExp(st.version.replace(/\./g, '\\.')));
    await page.context().close();
  });
});

describe('camera preview', () => {
  // A directory camera playing a real photo (symlinks to the shared test set, nothing copied).
  const photo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/testdata/qr/zxing-qrcode-2/6.png');
  let cam;
  let frames;

  before(async () => {
    frames = mkdtempSync(join(tmpdir(), 'passdesk-ui-frames-'));
    const dir = join(frames, 'camera');
    mkdirSync(dir);
    for (let i = 0; i < 600; i++) symlinkSync(photo, join(dir, `${String(i).padStart(4, '0')}.png`));
    cam = await startServer({ config: `[camera]\nreader_id = "gate-cam"\nframes_dir = "${dir}"\nframes_fps = 10\n` });
  });

  after(async () => {
    await cam?.stop();
    if (frames) rmSync(frames, { recursive: true, force: true });
  });

  test('Show camera: the picture, the code outlined in green and its text; remembered', async () => {
    const expected = readFileSync(photo.replace(/\.png$/, '.txt'), 'utf8').replace(/[\r\n]+$/, '');
    // Wait until the service has the code in view.
    await until('a camera preview with an outline', async () => {
      const r = await cam.api('GET', '/api/v1/camera/preview.json');
      return r.status === 200 && r.body.data.attributes.outline;
    });
    const page = await clockedPage(browser, 1024, 768);
    await page.goto(`${cam.base}/#/status?key=${encodeURIComponent(cam.key)}`);
    await page.waitForSelector('[data-testid="status-devices"] > *');
    await page.check('#show-camera');
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="camera-image"]');
      return img?.complete && img.naturalWidth > 0 && img.src.startsWith('blob:');
    });
    assert.deepEqual(await page.$eval('[data-testid="camera-image"]', (i) => [i.naturalWidth, i.naturalHeight]), [640, 480]);
    await page.waitForFunction(() => (document.querySelector('[data-testid="camera-polygon"]')?.getAttribute('points') ?? '').split(' ').length >= 3);
    const stroke = await page.$eval('[data-testid="camera-polygon"]', (p) => [getComputedStyle(p).stroke, getComputedStyle(p).display]);
    assert.deepEqual(stroke, ['rgb(46, 204, 113)', 'inline']);
    // Drawn around the code, not as a bow tie: the polygon's area fills most of its bounding box.
    const pts = (await page.getAttribute('[data-testid="camera-polygon"]', 'points')).split(' ').map((p) => p.split(',').map(Number));
    const area = Math.abs(pts.reduce((s, [x, y], i) => { const [u, v] = pts[(i + 1) % pts.length]; return s + x * v - u * y; }, 0)) / 2;
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    const box = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
    assert.ok(pts.length < 4 || area > 0.6 * box, `outline ${JSON.stringify(pts)}: area ${area} of ${box}`);
    assert.equal(await page.textContent('[data-testid="camera-text"]'), expected);
    // Polling replaces the picture; each old blob URL is let go.
    const first = await page.$eval('[data-testid="camera-image"]', (i) => i.src);
    await page.waitForFunction((src) => document.querySelector('[data-testid="camera-image"]').src !== src, first);
    await shoot(page, 'status-camera');
    // Remembered across a reload.
    await page.reload();
    await page.waitForSelector('[data-testid="camera-image"][src^="blob:"]', { timeout: 10_000 });
    assert.ok(await page.isChecked('#show-camera'));
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe('layout', () => {
  test('a toast never covers a button: the cashier with several toasts up, at every size; the buttons still take a click', async () => {
    for (const [i, [w, h]] of SIZES.entries()) {
      // A customer with rewards to redeem: the card's last buttons are its Redeem buttons.
      const code = `BEAN-001${i + 1}`;
      const pass = (await server.api('GET', `/api/v1/passes?search=${code}`)).body.data[0];
      const topUp = await server.api('POST', `/api/v1/passes/${pass.id}/loyalty/earn`, { points: 150 }, { 'Idempotency-Key': crypto.randomUUID() });
      assert.equal(topUp.status, 200);
      const page = await clockedPage(browser, w, h);
      await open(page, '/cashier?reader=till-1');
      await wedge(page, code);
      await page.waitForSelector('[data-action="stamp"]');
      await page.waitForSelector('[data-action^="tier:"]');
      // Several toasts: a refusal and three things done (the till's key here may undo).
      await page.click('[data-action^="earn"]');
      await page.waitForSelector('.toast >> text=Type the amount paid first');
      await page.click('[data-action="stamp"]');
      await page.waitForSelector('.toast >> text=Stamp added');
      await page.fill('[data-testid="amount-input"]', '2');
      await page.click('[data-action^="earn"]');
      await page.waitForSelector('.toast >> text=Points added for 2.00');
      await page.click('[data-testid="undo"]');
      await page.waitForSelector('.toast >> text=Undone: +2 points');
      assert.equal(await page.$$eval('.toast', (t) => t.length), 3, 'a few at most: the oldest went');
      await page.screenshot({ path: join(SHOTS, `cashier-toasts-${w}x${h}.png`) });

      // No toast's box meets the visible part of any enabled button (or link, field), as the
      // screen is, and with each button scrolled to the bottom and to the top of the screen's
      // view (wherever a cashier may have scrolled); each takes a click where it shows.
      const covered = () => coveredByToasts(page);
      const asIs = await covered();
      assert.ok(asIs.toasts >= 1, `toasts in view at ${w}x${h}`);
      assert.deepEqual(asIs.covered, [], `covered at ${w}x${h}`);
      for (const action of await page.$$eval('main button:not([disabled])', (b) => b.map((x) => x.dataset.action ?? x.dataset.testid ?? x.textContent))) {
        const button = page.locator(`main button:not([disabled])[data-action="${action}"], main button:not([disabled])[data-testid="${action}"]`).first();
        if (!(await button.count())) continue;
        for (const block of ['end', 'start']) {
          await button.evaluate((el, b) => el.scrollIntoView({ block: b }), block);
          assert.deepEqual((await covered()).covered, [], `covered at ${w}x${h} with ${action} at the ${block} of the view`);
          const hit = await button.evaluate((el) => {
            const r = el.getBoundingClientRect();
            const x = r.left + r.width / 2;
            const y = Math.min(r.bottom - 1, innerHeight - 1);
            return el.contains(document.elementFromPoint(x, y));
          });
          assert.ok(hit, `${action} at ${w}x${h} (at the ${block} of the view) is what a tap on its lower edge reaches`);
        }
      }
      // And they take a click with the toasts up.
      const stamps = Number(await page.getAttribute('[data-testid="stamps"]', 'data-stamps'));
      await page.clock.fastForward(900); // a new tap, not the tail of the last one
      await page.click('[data-action="stamp"]');
      await page.waitForFunction((n) => document.querySelector('[data-testid="stamps"]')?.getAttribute('data-stamps') === String(n), (stamps + 1) % 10 || 10);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    }
  });

  test('every screen fits 1024x768, 1920x1080 and a narrow screen without sideways scrolling, with touch-sized targets', async () => {
    for (const [w, h] of SIZES) {
      const page = await clockedPage(browser, w, h);
      // What each screen shows once its data has come: measured only then. (The gate lists
      // today's scans once loaded: one is made first.)
      await server.api('POST', '/api/v1/scans', { value: 'HLF-0005', readerId: 'till-1' });
      const loaded = {
        gate: '[data-testid="last-scans"] li',
        cashier: '[data-testid="balance"]',
        manager: '[data-testid="today-totals"]',
        status: '[data-testid="status-devices"] > *',
      };
      for (const screen of ['gate', 'cashier', 'manager', 'status']) {
        await open(page, `/${screen}?reader=till-1`);
        if (screen === 'cashier') await wedge(page, 'BEAN-0006');
        await page.waitForSelector(loaded[screen]);
        // The page, and the screen (which scrolls on its own between the header and the toasts).
        const overflow = await page.evaluate(() =>
          Math.max(
            ...[document.documentElement, document.querySelector('main.screen')].map((el) => el.scrollWidth - el.clientWidth),
          ),
        );
        assert.ok(overflow <= 0, `${screen} at ${w}x${h} scrolls sideways by ${overflow} px`);
        // Touch: every visible button and link is at least 44 px tall.
        const small = await page.$$eval('button, a, select, input:not([type="range"])', (els) =>
          els
            .filter((el) => el.getBoundingClientRect().height > 0)
            .filter((el) => el.getBoundingClientRect().height < 44)
            .map((el) => `${el.tagName} ${el.textContent?.trim() || el.getAttribute('aria-label') || el.id} ${el.getBoundingClientRect().height}`),
        );
        assert.deepEqual(small, [], `${screen} at ${w}x${h} has small targets`);
      }
      assert.deepEqual(page.problems, []);
      await page.context().close();
    }
  });
});
