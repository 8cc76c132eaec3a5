// Browser end-to-end tests of the wallets on the screens: a pass issued on the manager screen
// shows a QR of its holder page at the counter's LAN address, and a line per wallet that is not
// set up; without a LAN address, the sentence saying what to set; the status screen shows both
// wallets. Debian Chromium (playwright-core) against the real `passdesk serve --demo`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newPage, openScreen, shoot, startServer } from './harness.mjs';

const LAN = 'http://192.168.1.20:8917';

let browser;
let lan;
let local;

before(async () => {
  [browser, lan, local] = await Promise.all([
    launchBrowser(),
    // A counter that names its LAN address, and one that does not (opened at 127.0.0.1).
    startServer({ config: `[wallet]\nholder_base_url = "${LAN}/"\n` }),
    startServer(),
  ]);
});

after(async () => {
  await browser?.close();
  await Promise.all([lan?.stop(), local?.stop()]);
});

/** Issues a pass for `name` on the manager screen; resolves with its downloadUrl (from the
 * service: the pass the screen issued). */
async function issueOnScreen(page, server, name) {
  await openScreen(page, server, '/manager?reader=desk-1');
  await page.waitForSelector('[data-testid="issue-template"] option[value="tpl-bean-there"]', { state: 'attached' });
  await page.selectOption('[data-testid="issue-template"]', 'tpl-bean-there');
  await page.fill('[data-testid="issue-name"]', name);
  await page.click('[data-testid="issue-submit"]');
  await page.waitForSelector('[data-testid="issued"] .passcard svg.qr');
  const found = await server.api('GET', `/api/v1/passes?search=${encodeURIComponent(name)}`);
  assert.equal(found.body.data.length, 1, JSON.stringify(found.body));
  return found.body.data[0].attributes.downloadUrl;
}

describe('manager: the holder page for the customer’s phone', () => {
  test('a pass issued here shows a QR of its page at the LAN address and what each wallet lacks', async () => {
    const page = await newPage(browser);
    const link = await issueOnScreen(page, lan, 'Ada Lovelace');
    assert.match(link, /^\/p\/[0-9a-f]{32}$/);
    await page.waitForSelector('[data-testid="holder-qr"] svg.qr');
    assert.equal((await page.textContent('[data-testid="holder-url"]')).trim(), `${LAN}${link}`);
    assert.match(await page.getAttribute('[data-testid="holder-qr"] svg.qr', 'aria-label'), /Ada Lovelace/);
    // The holder QR is a second code beside the admission one, not in its place.
    assert.equal(await page.locator('[data-testid="issued"] svg.qr').count(), 2);

    // Neither wallet is configured on this counter: both say so, in the service's words.
    const status = (await lan.api('GET', '/api/v1/status')).body.data.attributes.wallet;
    const lines = page.locator('[data-testid="wallet-missing"] li');
    assert.equal(await lines.count(), 2);
    assert.equal(
      (await page.textContent('[data-testid="wallet-missing"] li[data-wallet="apple"]')).trim(),
      `Apple Wallet: not set up — ${status.apple.detail}`,
    );
    assert.equal(
      (await page.textContent('[data-testid="wallet-missing"] li[data-wallet="google"]')).trim(),
      `Google Wallet: not set up — ${status.google.detail}`,
    );
    assert.match(status.apple.detail, /\[wallet\.apple\]/);
    assert.equal(await page.isVisible('[data-testid="holder-note"]'), false);
    await shoot(page, 'manager-holder-qr');

    // Printed: the pass card only, not the phone's QR.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.isVisible('[data-testid="holder"]'), false);
    assert.ok(await page.isVisible('[data-testid="issued"] .passcard svg.qr'));
    await page.emulateMedia({ media: 'screen' });

    // A pass opened from the search shows its page's QR too.
    await page.click('[data-testid="issued"] .row button:has-text("Close")');
    await page.fill('[data-testid="search-input"]', 'CUST-9002');
    await page.press('[data-testid="search-input"]', 'Enter');
    const row = page.locator('[data-testid="search-results"] tbody tr').first();
    await row.waitFor();
    await row.locator('button:has-text("QR")').click();
    const demoLink = (await lan.api('GET', '/api/v1/passes/CUST-9002')).body.data.attributes.downloadUrl;
    await page.waitForSelector('[data-testid="holder-url"]');
    assert.equal((await page.textContent('[data-testid="holder-url"]')).trim(), `${LAN}${demoLink}`);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('without a LAN address, a counter opened at 127.0.0.1 says what to set instead of a QR no phone can follow', async () => {
    const page = await newPage(browser);
    await issueOnScreen(page, local, 'Grace Hopper');
    await page.waitForSelector('[data-testid="holder-note"]');
    assert.match(await page.textContent('[data-testid="holder-note"]'), /\[wallet\] holder_base_url/);
    assert.equal(await page.locator('[data-testid="holder-qr"]').count(), 0);
    assert.equal(await page.locator('[data-testid="issued"] svg.qr').count(), 1, 'the admission QR only');
    assert.equal(await page.locator('[data-testid="wallet-missing"] li').count(), 2);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe('status', () => {
  test('the status screen shows both wallets and where phones reach the holder pages', async () => {
    const page = await newPage(browser);
    await openScreen(page, lan, '/status');
    await page.waitForSelector('[data-testid="status-facts"] dt:has-text("Apple Wallet")');
    const facts = await page.$$eval('[data-testid="status-facts"] dt', (dts) =>
      Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent ?? ''])),
    );
    assert.match(facts['Apple Wallet'], /^not set up: .*\[wallet\.apple\]/);
    assert.match(facts['Google Wallet'], /^not set up: .*\[wallet\.google\]/);
    assert.equal(facts['Holder pages at'], LAN);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
