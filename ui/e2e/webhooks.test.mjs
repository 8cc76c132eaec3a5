// Browser end-to-end tests of the manager's Webhooks page and the status screen's webhook lines,
// against the real `passdesk serve --demo` and its real delivery worker, with a loopback
// receiver (node's http server) this test starts and tells how to answer: add a subscription
// (checked before it is sent; the service's refusal shown at its field), its secret shown once
// (and it is the one that signs), a test delivered, the receiver answering 500 (failing, then
// retried from the log), 410 (turned off by the counter, in words), off and on, a new secret,
// delete; the page at 1024x768 and 480x800 with no toast over a button; the status lines.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { coveredByToasts, launchBrowser, newPage, openScreen, shoot, startServer, until } from './harness.mjs';

let server;
let browser;
let receiver;

/** A webhook receiver on 127.0.0.1: records every request (headers, raw body) and answers with
 * `answer` (200 unless told otherwise). `next(what, match)` resolves with the first request
 * received from now on that matches, without polling. */
async function startReceiver() {
  const got = [];
  const waiting = new Set();
  const srv = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const r = { path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered: rec.answer };
      got.push(r);
      res.writeHead(rec.answer, { 'content-type': 'text/plain' });
      res.end(rec.answer < 300 ? 'ok' : 'not now');
      for (const w of waiting) if (w.match(r)) w.done(r);
    });
  });
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  const rec = {
    url: `http://127.0.0.1:${srv.address().port}`,
    got,
    answer: 200,
    next(what, match = () => true, timeout = 30_000) {
      return new Promise((ok, fail) => {
        const w = {
          match,
          done: (r) => {
            waiting.delete(w);
            clearTimeout(timer);
            ok(r);
          },
        };
        const timer = setTimeout(() => {
          waiting.delete(w);
          fail(new Error(`the receiver waited ${timeout / 1000} s for ${what}`));
        }, timeout);
        waiting.add(w);
      });
    },
    close: () => new Promise((ok) => srv.close(ok)),
  };
  return rec;
}

/** The Standard Webhooks signature every delivery carries, checked with `secret` by hand:
 * base64 HMAC-SHA256 of "id.timestamp.body" keyed with the secret's bytes. */
function signedWith(secret, r) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`).digest('base64');
  return (r.headers['webhook-signature'] ?? '').split(' ').includes(`v1,${mac}`);
}

before(async () => {
  [server, browser, receiver] = await Promise.all([startServer(), launchBrowser(), startReceiver()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await receiver?.close();
});

const card = (id) => `[data-testid="wh-card"][data-sub="${id}"]`;
const subs = async () => (await server.api('GET', '/api/v1/webhook-subscriptions?perPage=100')).body.data;

/** Every request the page sends to the webhook routes, and every refusal. */
function watchApi(page) {
  const seen = { requests: [], refused: [] };
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/api/v1/webhook')) seen.requests.push(`${r.method()} ${url.pathname}`);
  });
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/v1/') && r.status() >= 400) seen.refused.push(`${r.status()} ${r.url()}`);
  });
  return seen;
}

describe('the Webhooks page', () => {
  test('add (checked first), secret once, test, failing and retried, 410, off and on, new secret, delete', async () => {
    const page = await newPage(browser, 1024, 768);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
    const api = watchApi(page);
    await openScreen(page, server, '/webhooks');
    await page.waitForSelector('[data-testid="wh-list-note"] >> text=No webhooks yet');
    assert.ok((await page.$$eval('nav.nav a', (l) => l.map((a) => a.dataset.screen))).includes('webhooks'));

    // Checked before anything is sent: the error at the field, in words; nothing asked.
    for (const [typed, said] of [
      ['', /Type the endpoint’s address/],
      ['ftp://files.example/drop', /must begin with http:\/\/ or https:\/\/, not ftp:/],
      ['pos.example/hooks', /begin it with https:\/\//],
      ['https://ann:secret@pos.example/hooks', /user name or password/],
    ]) {
      await page.fill('[data-testid="wh-add-url"]', typed);
      await page.click('[data-testid="wh-add-submit"]');
      await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('[data-testid="wh-add-url-error"]')?.textContent ?? ''), said.source);
      assert.equal(await page.getAttribute('[data-testid="wh-add-url"]', 'aria-invalid'), 'true');
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'wh-add-url', 'the field has the focus');
    }
    assert.deepEqual(api.requests.filter((r) => r.startsWith('POST')), [], 'nothing sent');
    await shoot(page, 'webhooks-url-error');

    // The service's own refusal is shown at its field too (a format it does not know, put into
    // the choice as a newer page might offer it).
    await page.fill('[data-testid="wh-add-url"]', `${receiver.url}/hooks`);
    await page.evaluate(() => {
      const s = document.querySelector('[data-testid="wh-add-format"]');
      s.append(new Option('Smoke signals', 'smoke-signals'));
      s.value = 'smoke-signals';
    });
    await page.click('[data-testid="wh-add-submit"]');
    await page.waitForSelector('[data-testid="wh-add-format-error"] >> text=smoke-signals');
    assert.equal(await page.textContent('[data-testid="wh-add-url-error"]'), '', 'the address is fine now');
    assert.equal((await subs()).length, 0, 'nothing made');

    // Added with the keyboard: the address, a format, two events ticked with Space, Enter.
    await page.selectOption('[data-testid="wh-add-format"]', 'passentry');
    await page.focus('#wh-add-ev-passCreated');
    await page.keyboard.press('Space');
    await page.focus('#wh-add-ev-passTapped');
    await page.keyboard.press('Space');
    assert.equal(await page.inputValue('[data-testid="scan-input"]'), '', 'Space ticked the box, it did not go to the scan box');
    await page.focus('[data-testid="wh-add-url"]');
    const created = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/webhook-subscriptions'));
    await page.keyboard.press('Enter');
    const answer = await (await created).json();
    assert.equal((await created).status(), 201);
    const id = answer.data.id;
    const secret = answer.data.attributes.secretKey;
    assert.match(secret, /^whsec_/);

    // The secret, once, where it was made, with Copy; the form is empty for the next one.
    await page.waitForSelector(`${card(id)} [data-testid="wh-secret-value"]`);
    assert.equal(await page.textContent(`${card(id)} [data-testid="wh-secret-value"]`), secret);
    assert.match(await page.textContent(`${card(id)} [data-testid="wh-secret"]`), /shown only now/);
    assert.equal(await page.inputValue('[data-testid="wh-add-url"]'), '');
    await page.click(`${card(id)} [data-action="copy-secret"]`);
    await page.waitForSelector(`${card(id)} [data-testid="wh-secret"] >> text=Copied`);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    assert.match(await page.textContent(`${card(id)} [data-testid="wh-what"]`), /PassEntry · Pass created, Pass scanned/);
    await shoot(page, 'webhooks-secret');
    await page.click(`${card(id)} [data-action="secret-done"]`);
    assert.equal(await page.$(`${card(id)} [data-testid="wh-secret"]`), null);
    const listed = (await subs()).find((s) => s.id === id);
    assert.equal(listed.attributes.secretKey, undefined, 'the list never shows it');
    await page.reload();
    await page.waitForSelector(card(id));
    assert.ok(!(await page.content()).includes(secret), 'nowhere on the page after a reload');
    assert.equal(await page.getAttribute(card(id), 'data-health'), 'new');
    assert.equal(await page.textContent(`${card(id)} [data-testid="wh-health"]`), 'Nothing delivered yet');

    // A test: queued, then delivered, in the card; signed with the secret shown.
    let delivered = receiver.next('the test', (r) => r.answered === 200);
    await page.click(`${card(id)} [data-action="test"]`);
    await page.waitForSelector(`${card(id)} [data-testid="wh-test"]:not([hidden])`);
    const first = await delivered;
    assert.ok(signedWith(secret, first), 'the secret shown signs the delivery');
    assert.match(first.headers['x-webhook-signature'] ?? '', /^[0-9a-f]{64}$/, 'PassEntry’s own signature too');
    await page.waitForSelector(`${card(id)} [data-testid="wh-test"][data-mark="delivered"] >> text=Test delivered: the endpoint answered 200`);
    await page.waitForSelector(`${card(id)}[data-health="ok"] [data-testid="wh-health"] >> text=Delivering`);
    assert.match(await page.textContent(`${card(id)} [data-testid="wh-facts"]`), /Nothing waiting.*Last success \d\d:\d\d/);

    // A pass scanned: its event reaches the receiver (passTapped is ticked).
    delivered = receiver.next('the scan', (r) => r.body.includes('passTapped'));
    await server.api('POST', '/api/v1/scans', { value: 'HLF-0001', readerId: 'gate-a' });
    assert.ok(signedWith(secret, await delivered));

    // The receiver fails: the test is not delivered, the endpoint shows failing since when.
    receiver.answer = 500;
    const refused = receiver.next('the failing test');
    const queued = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/webhook-subscriptions/${id}/test`));
    await page.click(`${card(id)} [data-action="test"]`);
    const failing = (await (await queued).json()).data;
    const failedTry = await refused;
    assert.equal(failedTry.answered, 500);
    await page.waitForFunction(
      (sel) => /^Test (not delivered yet: HTTP 500|failed after 1 attempt: HTTP 500)/.test(document.querySelector(sel)?.textContent ?? ''),
      `${card(id)} [data-testid="wh-test"]`,
    );
    await page.waitForSelector(`${card(id)}[data-health="failing"]`);
    assert.match(await page.textContent(`${card(id)} [data-testid="wh-health"]`), /^Failing since \d\d:\d\d$/);
    await shoot(page, 'webhooks-failing');

    // Its log: the delivery marked, with Retry; retried once the receiver is back.
    await page.click(`${card(id)} [data-action="log"]`);
    const row = `[data-testid="wh-log"] tr[data-delivery="${failing.id}"]`;
    await page.waitForSelector(`${row}[data-mark="retrying"], ${row}[data-mark="failed"]`);
    assert.match(await page.textContent(row), /HTTP 500/);
    receiver.answer = 200;
    const again = receiver.next('the retried test', (r) => r.headers['webhook-id'] === failedTry.headers['webhook-id']);
    await page.click(`${row} [data-action="retry"]`);
    const retried = await again;
    assert.equal(retried.answered, 200, 'the same event (webhook-id) sent again');
    await page.waitForSelector(`${row}[data-state="delivered"]`);
    await page.waitForSelector(`${card(id)}[data-health="ok"]`);
    await page.click(`${row} [data-action="attempts"]`);
    await page.waitForFunction((sel) => {
      const tries = [...(document.querySelector(sel)?.nextElementSibling?.querySelectorAll('li') ?? [])].map((li) => li.textContent);
      return tries.length === 2 && /· HTTP 500\b.* in \d+ ms$/.test(tries[0]) && /· HTTP 200 in \d+ ms$/.test(tries[1]);
    }, row);
    await shoot(page, 'webhooks-log');

    // 410 Gone: the counter turns it off and says why; turned on again, it delivers.
    receiver.answer = 410;
    const gone = receiver.next('the test answered 410');
    await page.click(`${card(id)} [data-action="test"]`);
    await gone;
    await page.waitForSelector(`${card(id)}[data-health="stopped"] [data-testid="wh-health"] >> text=The endpoint answered 410 Gone: turned off`);
    assert.equal(await page.textContent(`${card(id)} [data-action="toggle"]`), 'Turn on');
    await shoot(page, 'webhooks-gone');
    // The log (still open) with failed ones only: the 410, marked, with Retry.
    await page.check('[data-testid="wh-failed-only"]');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="wh-log"] tr[data-delivery]')];
      return rows.length === 1 && rows[0].dataset.state === 'failed' && rows[0].querySelector('[data-action="retry"]:not([hidden])');
    });
    assert.match(await page.textContent('[data-testid="wh-log"] tr[data-state="failed"]'), /Failed after 1 attempt: HTTP 410/);
    await shoot(page, 'webhooks-failed-only');
    await page.uncheck('[data-testid="wh-failed-only"]');
    receiver.answer = 200;
    await page.click(`${card(id)} [data-action="toggle"]`);
    await page.waitForSelector(`${card(id)}[data-enabled="true"]`);
    assert.equal((await subs()).find((s) => s.id === id).attributes.enabled, true);

    // Off and on by hand.
    await page.click(`${card(id)} [data-action="toggle"]`);
    await page.waitForSelector(`${card(id)}[data-health="off"] [data-testid="wh-health"] >> text=Turned off`);
    assert.equal((await subs()).find((s) => s.id === id).attributes.enabled, false);
    await page.click(`${card(id)} [data-action="toggle"]`);
    await page.waitForSelector(`${card(id)}[data-enabled="true"]`);

    // Edit in place: the address changes; Escape would have kept it.
    await page.click(`${card(id)} [data-action="edit"]`);
    const editUrl = `[data-testid="wh-edit-${id}-url"]`;
    assert.equal(await page.inputValue(editUrl), `${receiver.url}/hooks`);
    await page.fill(editUrl, `${receiver.url}/hooks/v2`);
    await page.click(`[data-testid="wh-edit-${id}-submit"]`);
    await page.waitForSelector(`${card(id)} [data-testid="wh-url"]:has-text("/hooks/v2")`);
    assert.equal((await subs()).find((s) => s.id === id).attributes.url, `${receiver.url}/hooks/v2`);

    // A new secret, after a question: the old one signs nothing from now on.
    await page.click(`${card(id)} [data-action="rotate"]`);
    assert.match(await page.textContent(`${card(id)} [data-testid="wh-confirm"]`), /The old secret stops at once/);
    const rotated = page.waitForResponse((r) => r.url().endsWith(`/webhook-subscriptions/${id}/rotate-secret`));
    await page.click(`${card(id)} [data-action="confirm-yes"]`);
    const secret2 = (await (await rotated).json()).data.attributes.secretKey;
    assert.notEqual(secret2, secret);
    assert.equal(await page.textContent(`${card(id)} [data-testid="wh-secret-value"]`), secret2);
    delivered = receiver.next('a test after the new secret', (r) => r.path === '/hooks/v2');
    await page.click(`${card(id)} [data-action="test"]`);
    const signedNow = await delivered;
    assert.ok(signedWith(secret2, signedNow) && !signedWith(secret, signedNow), 'signed with the new secret only');
    await page.click(`${card(id)} [data-action="secret-done"]`);

    // Delete, after a question that Escape answers no.
    await page.click(`${card(id)} [data-action="delete"]`);
    await page.waitForSelector(`${card(id)} [data-testid="wh-confirm"]`);
    await page.keyboard.press('Escape');
    await page.waitForSelector(`${card(id)} [data-testid="wh-confirm"]`, { state: 'detached' });
    assert.equal((await subs()).length, 1, 'still there');
    await page.click(`${card(id)} [data-action="delete"]`);
    await page.click(`${card(id)} [data-action="confirm-yes"]`);
    await page.waitForSelector(card(id), { state: 'detached' });
    await page.waitForSelector('[data-testid="wh-list-note"] >> text=No webhooks yet');
    assert.equal((await subs()).length, 0);
    assert.equal(await page.isVisible('[data-testid="wh-log"]'), false, 'its log closed with it');

    assert.deepEqual(api.refused, ['422 ' + server.base + '/api/v1/webhook-subscriptions'], 'only the unknown format was refused');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('fits 1024x768 and 480x800 without sideways scrolling, touch-sized, no toast over a button', async () => {
    // Something in every state: delivering, failing, turned off.
    const made = [];
    for (const [path, enabled] of [
      ['/fine', true],
      ['/off', false],
      ['/a/very/long/path/that/a/store/might/really/use/for/its/till/integration/endpoint', true],
    ]) {
      const r = await server.api('POST', '/api/v1/webhook-subscriptions', { webhookSubscription: { url: receiver.url + path, enabled } });
      assert.equal(r.status, 201);
      made.push(r.body.data.id);
    }
    for (const [w, h] of [
      [1024, 768],
      [480, 800],
    ]) {
      const page = await newPage(browser, w, h);
      await openScreen(page, server, '/webhooks');
      await page.waitForSelector(`${card(made[2])}`);
      await page.click(`${card(made[0])} [data-action="log"]`);
      await page.waitForSelector('[data-testid="wh-log-note"]:not(:empty)');
      await page.click(`${card(made[1])} [data-action="edit"]`);
      // Three toasts up: one off and on again, another off.
      for (const id of [made[2], made[2], made[0]]) await page.click(`${card(id)} [data-action="toggle"]`);
      await page.waitForFunction(() => document.querySelectorAll('.toast').length === 3);
      await page.screenshot({ path: new URL(`./screenshots/webhooks-${w}x${h}.png`, import.meta.url).pathname });

      const overflow = await page.evaluate(() =>
        Math.max(...[document.documentElement, document.querySelector('main.screen')].map((el) => el.scrollWidth - el.clientWidth)),
      );
      assert.ok(overflow <= 0, `webhooks at ${w}x${h} scrolls sideways by ${overflow} px`);
      const small = await page.$$eval('button, a, select, input', (els) =>
        els
          .filter((el) => el.getBoundingClientRect().height > 0 && el.getBoundingClientRect().height < 44)
          .map((el) => `${el.tagName} ${el.textContent?.trim() || el.getAttribute('aria-label') || el.id} ${el.getBoundingClientRect().height}`),
      );
      assert.deepEqual(small, [], `small targets at ${w}x${h}`);
      // No toast over a button, as the page is and with each button scrolled to the bottom of
      // the view (where the toasts' strip begins).
      assert.deepEqual((await coveredByToasts(page)).covered, [], `covered at ${w}x${h}`);
      const buttons = page.locator('main button:visible');
      for (let i = 0; i < (await buttons.count()); i++) {
        await buttons.nth(i).evaluate((el) => el.scrollIntoView({ block: 'end' }));
        assert.deepEqual((await coveredByToasts(page)).covered, [], `covered at ${w}x${h} with button ${i} at the bottom`);
      }
      assert.deepEqual(page.problems, []);
      await page.context().close();
    }
    for (const id of made) await server.api('DELETE', `/api/v1/webhook-subscriptions/${id}`);
  });

  test('offered to a manager only: a till’s cashier key does not list it, and the route asks for a manager', async () => {
    const page = await newPage(browser, 1024, 768);
    await openScreen(page, server, '/cashier?reader=till-1', server.createKey('cashier', { readers: ['till-1'] }));
    assert.deepEqual(await page.$$eval('nav.nav a', (l) => l.map((a) => a.dataset.screen)), ['gate', 'cashier', 'manager', 'status']);
    await page.goto(`${server.base}/#/webhooks?reader=till-1`);
    await page.waitForSelector('[data-testid="locked"][data-screen="webhooks"] [data-testid="signin-key"]');
    await page.fill('[data-testid="signin-key"]', server.createKey('manager', { name: 'Ada (manager)' }));
    await page.click('[data-testid="signin-submit"]');
    await page.waitForSelector('[data-testid="wh-add-url"]');
    assert.ok((await page.$$eval('nav.nav a', (l) => l.map((a) => a.dataset.screen))).includes('webhooks'));
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe('the status screen', () => {
  test('a line per webhook: its health in words, its backlog and last success', async () => {
    const ok = await server.api('POST', '/api/v1/webhook-subscriptions', { webhookSubscription: { url: `${receiver.url}/status-ok` } });
    const off = await server.api('POST', '/api/v1/webhook-subscriptions', { webhookSubscription: { url: `${receiver.url}/status-off`, enabled: false } });
    const delivered = receiver.next('the status test', (r) => r.path === '/status-ok');
    await server.api('POST', `/api/v1/webhook-subscriptions/${ok.body.data.id}/test`);
    await delivered;
    // A scan while one is off: it waits.
    await server.api('POST', '/api/v1/scans', { value: 'HLF-0002', readerId: 'gate-a' });
    await until('the scan waiting for the webhook that is off', async () => {
      const s = (await server.api('GET', `/api/v1/webhook-subscriptions/${off.body.data.id}`)).body.data.attributes;
      return s.backlog >= 1;
    });
    await until('the delivered test recorded', async () => {
      const s = (await server.api('GET', `/api/v1/webhook-subscriptions/${ok.body.data.id}`)).body.data.attributes;
      return s.lastSuccessAt;
    });
    const page = await newPage(browser, 1024, 768);
    await openScreen(page, server, '/status');
    const line = (id) => `[data-testid="status-webhooks"] [data-sub="${id}"]`;
    await page.waitForSelector(`${line(ok.body.data.id)}.health-ok >> text=Delivering`);
    assert.match(await page.textContent(line(ok.body.data.id)), /Last success \d\d:\d\d/);
    await page.waitForSelector(`${line(off.body.data.id)}.health-off >> text=Turned off`);
    assert.match(await page.textContent(line(off.body.data.id)), /\d+ waiting: sent when turned on again/);
    await shoot(page, 'status-webhooks');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
