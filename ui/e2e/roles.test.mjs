// Browser end-to-end tests of the role model on screen: a gate that works with a reader key
// alone (its own day, rolling over at the counter's midnight), a till's cashier key under which
// a manager signs in with their own key (kept in memory, forgotten when idle or signed out), the
// cashier's Undo that asks for that manager, and the manager's issue under one Idempotency-Key.
// Keys are made per role with the real `passdesk keys create`; Debian Chromium (playwright-core)
// against the real `passdesk serve --demo`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clockedPage, launchBrowser, openScreen, scannerTypes, shoot, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const text = (page, id) => page.textContent(`[data-testid="${id}"]`);
const navScreens = (page) => page.$$eval('nav.nav a', (links) => links.map((a) => a.dataset.screen));
const kinds = (doc, k) => doc.included.map((e) => e.attributes).filter((e) => e.kind === k);
const bearer = (key) => `Bearer ${key}`;

/** Every request the page sends to the API, with the key it carried, and every refusal. */
function watchApi(page) {
  const seen = { requests: [], refused: [] };
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/api/v1/')) {
      seen.requests.push({ method: r.method(), path: url.pathname + url.search, auth: r.headers().authorization, headers: r.headers() });
    }
  });
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/v1/') && r.status() >= 400) seen.refused.push(`${r.status()} ${r.url()}`);
  });
  return seen;
}

describe('a gate with a reader key alone', () => {
  test('its own reader’s totals and last scans; no Manager or Cashier in the nav; the reader box offers its reader only', async () => {
    const key = server.createKey('reader', { name: 'gate A', readers: ['gate-a'] });
    // Scans made before the page opens: what it shows comes from the service's day at gate A.
    const mine = await server.api('POST', '/api/v1/scans', { value: 'HLF-0020', readerId: 'gate-a' });
    await server.api('POST', '/api/v1/scans', { value: 'NOT-A-TICKET', readerId: 'gate-a' });
    const theirs = await server.api('POST', '/api/v1/scans', { value: 'HLF-0021', readerId: 'gate-b' });
    const day = (await server.api('GET', '/api/v1/scans/today?readerId=gate-a&limit=10')).body.meta.totals;

    const page = await clockedPage(browser, 1024, 768);
    const api = watchApi(page);
    // The address asks for gate B; the key scans only as gate A.
    await openScreen(page, server, '/gate?reader=gate-b', key);
    await page.waitForFunction(
      ([a, r]) =>
        document.querySelector('[data-testid="count-admitted"]')?.textContent === String(a) &&
        document.querySelector('[data-testid="count-refused"]')?.textContent === String(r),
      [day.accepted, day.rejected],
    );
    await page.waitForSelector(`[data-testid="last-scans"] li[data-scan="${mine.body.data.id}"]`);
    assert.equal(await page.$(`[data-testid="last-scans"] li[data-scan="${theirs.body.data.id}"]`), null, 'gate B’s scan is not gate A’s');
    assert.deepEqual(await navScreens(page), ['gate', 'status']);
    assert.deepEqual(await page.$$eval('[data-testid="reader-select"] option', (o) => o.map((x) => x.value)), ['gate-a']);
    assert.equal(await page.$('[data-testid="reader-input"]'), null, 'no free reader field');
    assert.equal(await page.evaluate(() => location.hash), '#/gate?reader=gate-a', 'the address says so too');
    assert.ok(api.requests.some((r) => r.path.startsWith('/api/v1/scans/today?readerId=gate-a')));
    assert.ok(!api.requests.some((r) => /^\/api\/v1\/scans(\?|$)/.test(r.path)), 'not the audit log, which needs a cashier');

    // A scanner at the gate: decided as gate A, counted at once.
    await scannerTypes(page, 'HLF-0022');
    await page.waitForSelector('[data-testid="gate-panel"][data-outcome="accept"]');
    await page.waitForFunction((a) => document.querySelector('[data-testid="count-admitted"]')?.textContent === String(a), day.accepted + 1);
    const logged = (await server.api('GET', '/api/v1/scans?readerId=gate-a&limit=1')).body.data[0].attributes;
    assert.equal(logged.value, 'HLF-0022');
    await shoot(page, 'gate-reader-key');

    // Screens the key cannot use explain themselves and offer a sign-in: no request fails.
    for (const [screen, needs] of [
      ['manager', /needs a manager key; this station’s key is a reader key/],
      ['cashier', /needs a cashier key; this station’s key is a reader key/],
    ]) {
      await page.goto(`${server.base}/#/${screen}`);
      await page.waitForSelector(`[data-testid="locked"][data-screen="${screen}"] [data-testid="signin-key"]`);
      assert.match(await text(page, 'locked'), needs);
    }
    await shoot(page, 'manager-locked-reader');
    assert.equal(await page.$$eval('.toast', (t) => t.length), 0, 'no toasts');
    assert.deepEqual(api.refused, []);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('the day rolls over at meta.day.end without a reload: fetched again, counted from zero', async () => {
    const page = await clockedPage(browser, 1024, 768);
    const api = watchApi(page);
    await server.api('POST', '/api/v1/scans', { value: 'HLF-0023', readerId: 'gate-c' });
    const today = (await server.api('GET', '/api/v1/scans/today?readerId=gate-c')).body.meta.totals;
    assert.equal(today.accepted + today.rejected, 1);
    await openScreen(page, server, '/gate?reader=gate-c', server.createKey('reader', { readers: ['gate-c'] }));
    await page.waitForFunction(
      ([a, r]) =>
        document.querySelector('[data-testid="count-admitted"]')?.textContent === String(a) &&
        document.querySelector('[data-testid="count-refused"]')?.textContent === String(r),
      [today.accepted, today.rejected],
    );
    await page.waitForSelector('[data-testid="last-scans"] li');
    const end = await page.getAttribute('[data-testid="gate-counters"]', 'data-day-end');
    const start = await page.getAttribute('[data-testid="gate-counters"]', 'data-day-start');
    await page.evaluate(() => (window.stillThisPage = true));

    // The service's clock cannot be moved: from the moment the day ends, it answers as it will
    // then, with the next day (from the real answer: one day on, nothing scanned yet).
    let nextDay = false;
    await page.route('**/api/v1/scans/today?*', async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      if (nextDay) {
        const day = body.meta.day;
        body.data = [];
        body.meta = {
          ...body.meta,
          count: 0,
          totals: { accepted: 0, rejected: 0 },
          day: { ...day, start: day.end, end: new Date(Date.parse(day.end) + 86_400_000).toISOString() },
        };
      }
      await route.fulfill({ response: res, json: body });
    });

    // The page's clock to a second before the day's end: still the same day.
    const now = await page.evaluate(() => Date.now());
    await page.clock.fastForward(Date.parse(end) - now - 1000);
    assert.equal(await page.getAttribute('[data-testid="gate-counters"]', 'data-day-start'), start);
    assert.equal(await text(page, 'count-admitted'), String(today.accepted));

    nextDay = true;
    const asked = api.requests.length;
    const refetch = page.waitForRequest((r) => r.url().includes('/api/v1/scans/today?readerId=gate-c'));
    await page.clock.fastForward(1500);
    await refetch;
    await page.waitForFunction(
      (s) =>
        document.querySelector('[data-testid="gate-counters"]')?.dataset.dayStart === s &&
        document.querySelector('[data-testid="count-admitted"]')?.textContent === '0' &&
        document.querySelector('[data-testid="count-refused"]')?.textContent === '0' &&
        document.querySelectorAll('[data-testid="last-scans"] li').length === 0,
      end,
    );
    assert.ok(api.requests.slice(asked).some((r) => r.path.startsWith('/api/v1/scans/today')));
    assert.equal(await page.evaluate(() => window.stillThisPage), true, 'no reload');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe('a till with a cashier key', () => {
  test('Manager asks for a manager’s own key: kept in memory only, used for its requests, forgotten when idle and on Sign out', async () => {
    const cashierKey = server.createKey('cashier', { name: 'till 1', readers: ['till-1'] });
    const managerKey = server.createKey('manager', { name: 'Ada (manager)' });
    const page = await clockedPage(browser, 1024, 768);
    const api = watchApi(page);
    await openScreen(page, server, '/cashier?reader=till-1', cashierKey);
    assert.deepEqual(await navScreens(page), ['gate', 'cashier', 'manager', 'status']);

    await page.click('nav a[data-screen="manager"]');
    await page.waitForSelector('[data-testid="locked"][data-screen="manager"]');
    assert.match(await text(page, 'locked'), /A manager signs in here with their own key/);
    await shoot(page, 'manager-sign-in');
    // Not the till's own key, nor a wrong one.
    const signIn = async (key) => {
      await page.fill('[data-testid="signin-key"]', key);
      await page.click('[data-testid="signin-submit"]');
    };
    await signIn(cashierKey);
    await page.waitForSelector('[data-testid="signin-error"] >> text=That is a cashier key; this needs a manager key.');
    await signIn('pdk_000000000000000000_wrong');
    await page.waitForSelector('[data-testid="signin-error"] >> text=not a valid key');
    assert.match(await page.textContent('[data-testid="online-badge"]'), /Live/, 'the till stays signed in');

    await signIn(managerKey);
    await page.waitForSelector('[data-testid="issue-template"] option[value="tpl-hlf-ticket"]', { state: 'attached' });
    assert.match(await text(page, 'person'), /manager\s+Ada \(manager\)/);
    assert.match(await text(page, 'person-left'), /^(10:00|9:[0-5]\d) left$/);
    const traces = await page.evaluate(() => JSON.stringify([{ ...sessionStorage }, { ...localStorage }, location.href, document.cookie]));
    assert.ok(!traces.includes(managerKey), 'the manager’s key is nowhere but in memory');
    assert.ok(traces.includes(cashierKey), 'the till’s key stays for the till');

    // The manager's requests carry their key; the till's stream keeps the till's.
    await page.selectOption('[data-testid="issue-template"]', 'tpl-hlf-ticket');
    await page.fill('[data-testid="issue-name"]', 'Katherine Johnson');
    await page.click('[data-testid="issue-submit"]');
    await page.waitForSelector('[data-testid="issued"] svg.qr');
    const issue = api.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/passes');
    assert.equal(issue.auth, bearer(managerKey));
    assert.match(issue.headers['idempotency-key'], /^[0-9a-f-]{36}$/);
    assert.ok(api.requests.some((r) => r.path === '/api/v1/scans/stream' && r.auth === bearer(cashierKey)));
    assert.ok(!api.requests.some((r) => r.path === '/api/v1/scans/stream' && r.auth === bearer(managerKey)));

    // Time left counts down, activity brings it back, ten idle minutes forget the key.
    await page.clock.fastForward(5 * 60_000);
    await page.waitForFunction(() => /^[45]:\d\d left$/.test(document.querySelector('[data-testid="person-left"]')?.textContent ?? ''));
    await page.click('[data-testid="search-input"]');
    await page.clock.fastForward(1000);
    await page.waitForFunction(() => /^(10:00|9:5\d) left$/.test(document.querySelector('[data-testid="person-left"]')?.textContent ?? ''));
    // Six minutes on, a scan at a gate makes the screen fetch today's scans again with the
    // manager's key: the screen refreshing itself is not the manager being there.
    const reconnected = page.waitForRequest((r) => r.url().endsWith('/api/v1/scans/stream'));
    await page.clock.fastForward(6 * 60_000); // (the stream's 40 s watchdog fires: it reconnects)
    await reconnected;
    await page.waitForSelector('[data-testid="online-badge"].badge-on');
    const refreshed = page.waitForRequest(
      (r) => r.url().includes('/api/v1/scans/today') && r.headers().authorization === bearer(managerKey),
    );
    await server.api('POST', '/api/v1/scans', { value: 'HLF-0031', readerId: 'gate-b' });
    await refreshed;
    await page.clock.fastForward(4 * 60_000 + 2000);
    await page.waitForSelector('[data-testid="locked"][data-screen="manager"] [data-testid="locked-note"] >> text=Signed out after 10 minutes without activity');
    assert.equal(await page.isVisible('[data-testid="person"]'), false);

    // Signed in again, then Sign out: asked again.
    await signIn(managerKey);
    await page.waitForSelector('[data-testid="issue-template"] option', { state: 'attached' });
    await page.click('[data-testid="sign-out"]');
    await page.waitForSelector('[data-testid="locked"][data-screen="manager"] [data-testid="signin-key"]');
    assert.equal(await page.inputValue('[data-testid="signin-key"]'), '');
    assert.equal(await page.isVisible('[data-testid="person"]'), false);
    assert.deepEqual(await navScreens(page), ['gate', 'cashier', 'manager', 'status'], 'the till still offers Manager');
    // The till works on with its own key.
    await page.click('nav a[data-screen="cashier"]');
    await scannerTypes(page, 'BEAN-0009');
    await page.waitForSelector('[data-testid="balance"]');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('Undo asks for a manager, whose key makes the reversal and nothing else', async () => {
    const cashierKey = server.createKey('cashier', { name: 'till 2' });
    const managerKey = server.createKey('manager', { name: 'Grace (manager)' });
    const page = await clockedPage(browser, 1024, 768);
    const api = watchApi(page);
    await openScreen(page, server, '/cashier?reader=till-1', cashierKey);
    await scannerTypes(page, 'BEAN-0010');
    await page.waitForSelector('[data-testid="balance"]');
    const passId = (await server.api('GET', '/api/v1/scans?readerId=till-1&limit=1')).body.data[0].attributes.passId;
    await page.fill('[data-testid="amount-input"]', '20');
    await page.click('[data-action^="earn"]');
    await page.waitForSelector('[data-testid="undo"] >> text=Undo +20 points');

    // Cancelled: nothing reversed, nobody signed in.
    await page.click('[data-testid="undo"]');
    await page.waitForSelector('[data-testid="signin-dialog"] [data-testid="signin-key"]');
    await shoot(page, 'cashier-undo-sign-in');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="signin-dialog"]', { state: 'detached' });
    assert.equal(kinds((await server.api('GET', `/api/v1/passes/${passId}/loyalty`)).body, 'reverse').length, 0);

    await page.clock.fastForward(900); // a new tap, not the tail of a double click
    await page.click('[data-testid="undo"]');
    await page.fill('[data-testid="signin-dialog"] [data-testid="signin-key"]', cashierKey);
    await page.click('[data-testid="signin-dialog"] [data-testid="signin-submit"]');
    await page.waitForSelector('[data-testid="signin-dialog"] >> text=That is a cashier key; this needs a manager key.');
    await page.fill('[data-testid="signin-dialog"] [data-testid="signin-key"]', managerKey);
    await page.click('[data-testid="signin-dialog"] [data-testid="signin-submit"]');
    await page.waitForSelector('.toast >> text=Undone: +20 points');
    await page.waitForSelector('[data-testid="signin-dialog"]', { state: 'detached' });
    assert.equal(kinds((await server.api('GET', `/api/v1/passes/${passId}/loyalty`)).body, 'reverse').length, 1);
    const reverse = api.requests.find((r) => r.path.endsWith('/reverse'));
    assert.equal(reverse.auth, bearer(managerKey));
    assert.match(await text(page, 'person'), /Grace \(manager\)/);

    // The till's own actions stay the till's, with the manager still signed in.
    await page.fill('[data-testid="amount-input"]', '5');
    await page.click('[data-action^="earn"]');
    await page.waitForSelector('.toast >> text=Points added for 5.00');
    const earns = api.requests.filter((r) => r.path.endsWith('/loyalty/earn'));
    assert.equal(earns.length, 2);
    assert.ok(earns.every((r) => r.auth === bearer(cashierKey)));
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe('the manager screen', () => {
  test('issues one pass under one Idempotency-Key, reused when the answer was lost; a new form is a new key', async () => {
    const page = await clockedPage(browser, 1024, 768);
    await openScreen(page, server, '/manager?reader=desk-2');
    await page.waitForSelector('[data-testid="issue-template"] option[value="tpl-hlf-ticket"]', { state: 'attached' });
    await page.selectOption('[data-testid="issue-template"]', 'tpl-hlf-ticket');
    await page.fill('[data-testid="issue-name"]', 'Dorothy Vaughan');
    const keys = [];
    await page.route('**/api/v1/passes', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      keys.push(route.request().headers()['idempotency-key']);
      if (keys.length === 1) {
        await route.fetch(); // the service issues the pass...
        await route.abort('connectionreset'); // ...and its answer never arrives
      } else {
        await route.continue();
      }
    });
    await page.click('[data-testid="issue-submit"]');
    await page.waitForSelector('.toast >> text=Not issued: the counter service does not answer');
    const replay = page.waitForResponse((r) => r.url().endsWith('/api/v1/passes') && r.request().method() === 'POST');
    await page.click('[data-testid="issue-submit"]');
    const answer = await replay;
    assert.equal(answer.status(), 201);
    assert.equal(answer.headers()['idempotent-replayed'], 'true');
    await page.waitForSelector('[data-testid="issued"] svg.qr');
    assert.equal(keys.length, 2);
    assert.match(keys[0], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(keys[1], keys[0], 'the retry reuses the key');
    const found = (await server.api('GET', `/api/v1/passes?search=${encodeURIComponent('Dorothy Vaughan')}`)).body.data;
    assert.equal(found.length, 1, 'one pass');

    // The next pass is another intent: another key.
    await page.fill('[data-testid="issue-name"]', 'Mary Jackson');
    await page.click('[data-testid="issue-submit"]');
    await page.waitForSelector('.toast >> text=Pass issued for Mary Jackson');
    assert.equal(keys.length, 3);
    assert.notEqual(keys[2], keys[0]);
    await page.unroute('**/api/v1/passes');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
