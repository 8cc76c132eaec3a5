// Unit tests of src/webhook-words.ts (the Webhooks page's and the status screen's words),
// bundled on the fly with the esbuild that Vite ships. Run in a fixed time zone so "local time"
// is known.
process.env.TZ = 'Europe/Berlin';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';

const out = await build({
  entryPoints: [new URL('../src/webhook-words.ts', import.meta.url).pathname],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
});
const w = await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));

// 2026-03-10 in Berlin (UTC+1): 13:05 UTC is 14:05 on the screen.
const now = new Date('2026-03-10T16:00:00Z');
const at = '2026-03-10T13:05:00Z';

test('health: a counter-disabled subscription says why, in words', () => {
  const gone = { enabled: false, disabledReason: 'gone', backlog: 3 };
  assert.equal(w.health(gone), 'stopped');
  assert.equal(w.healthWords(gone, now), 'The endpoint answered 410 Gone: turned off');
  const failing = { enabled: false, disabledReason: 'failing', failingSince: '2026-03-07T13:05:00Z' };
  assert.equal(w.healthWords(failing, now), 'Failing for 3 days: turned off');
  assert.equal(w.healthWords({ enabled: false, disabledReason: 'later' }, now), 'Turned off by the counter (later)');
  const off = { enabled: false, disabledReason: null };
  assert.equal(w.health(off), 'off');
  assert.equal(w.healthWords(off, now), 'Turned off');
});

test('health: failing since a local time, delivering, nothing yet', () => {
  const failing = { enabled: true, failingSince: at, lastSuccessAt: '2026-03-10T12:00:00Z' };
  assert.equal(w.health(failing), 'failing');
  assert.equal(w.healthWords(failing, now), 'Failing since 14:05');
  // Another day: the day is said too.
  assert.match(w.healthWords({ enabled: true, failingSince: '2026-03-08T13:05:00Z' }, now), /^Failing since .*8.* 14:05$/);
  assert.equal(w.healthWords({ enabled: true, lastSuccessAt: at }, now), 'Delivering');
  assert.equal(w.health({ enabled: true, lastSuccessAt: at }), 'ok');
  assert.equal(w.healthWords({ enabled: true }, now), 'Nothing delivered yet');
  assert.equal(w.health({ enabled: true, lastSuccessAt: null, failingSince: null }), 'new');
});

test('backlog and last success', () => {
  assert.equal(w.backlogWords({ enabled: true, backlog: 132 }), '132 waiting');
  assert.equal(w.backlogWords({ enabled: true, backlog: 0 }), 'Nothing waiting');
  assert.equal(w.backlogWords({ enabled: false, backlog: 5 }), '5 waiting: sent when turned on again');
  assert.equal(w.lastSuccessWords(at, now), 'Last success 14:05');
  assert.equal(w.lastSuccessWords(null, now), 'No success yet');
});

test('events and formats in words; none ticked is every event', () => {
  assert.equal(w.eventsWords([]), 'Every event');
  assert.equal(w.eventsWords(['passCreated', 'passTapped']), 'Pass created, Pass scanned (every answer)');
  assert.equal(w.eventName('somethingNew'), 'somethingNew');
  assert.equal(w.formatName('skycore-json'), 'Skycore wallet JSON');
  assert.deepEqual([...w.FORMATS], ['passentry', 'passcreator', 'skycore-xml', 'skycore-json', 'standard']);
  assert.equal(w.EVENTS.length, 6);
  for (const e of w.EVENTS) assert.ok(w.EVENT_WORDS[e], e);
});

test('deliveries: delivered, failed, retrying, waiting, held', () => {
  assert.equal(w.deliveryWords({ state: 'delivered', attempts: 1, doneAt: at, lastStatus: 204 }, now), 'Delivered 14:05 (HTTP 204)');
  assert.equal(w.deliveryMark({ state: 'delivered', attempts: 1 }), 'delivered');
  assert.equal(
    w.deliveryWords({ state: 'failed', attempts: 10, lastStatus: 500, lastError: 'Internal Server Error' }, now),
    'Failed after 10 attempts: HTTP 500: Internal Server Error',
  );
  assert.equal(w.deliveryWords({ state: 'failed', attempts: 1, lastStatus: 410 }, now), 'Failed after 1 attempt: HTTP 410');
  assert.equal(w.deliveryMark({ state: 'failed', attempts: 1 }), 'failed');
  const retrying = { state: 'pending', attempts: 2, nextAttemptAt: '2026-03-10T13:10:00Z', lastError: 'connection refused' };
  assert.equal(w.deliveryWords(retrying, now), 'Not delivered yet (2 attempts, last: connection refused); next try 14:10');
  assert.equal(w.deliveryMark(retrying), 'retrying');
  assert.equal(w.deliveryWords({ state: 'pending', attempts: 0, nextAttemptAt: at }, now), 'Waiting to be sent');
  assert.equal(w.deliveryMark({ state: 'pending', attempts: 0 }), 'waiting');
  assert.equal(w.deliveryWords({ state: 'pending', attempts: 0, nextAttemptAt: null }, now), 'Held while the webhook is off');
});

test('a test’s outcome in words', () => {
  assert.equal(w.testWords({ state: 'pending', attempts: 0, nextAttemptAt: at }, now), 'Test queued: waiting to be sent');
  assert.equal(w.testWords({ state: 'pending', attempts: 0, nextAttemptAt: null }, now), 'Test queued: held while the webhook is off');
  assert.equal(w.testWords({ state: 'delivered', attempts: 1, lastStatus: 200 }, now), 'Test delivered: the endpoint answered 200');
  assert.equal(
    w.testWords({ state: 'pending', attempts: 1, lastStatus: 500, nextAttemptAt: '2026-03-10T13:06:00Z' }, now),
    'Test not delivered yet: HTTP 500 (1 attempt); next try 14:06',
  );
  assert.equal(w.testWords({ state: 'failed', attempts: 1, lastStatus: 410 }, now), 'Test failed after 1 attempt: HTTP 410');
});

test('attempts in words', () => {
  assert.equal(w.attemptWords({ status: 200, latencyMs: 12 }), 'HTTP 200 in 12 ms');
  assert.equal(w.attemptWords({ status: null, latencyMs: 10000, error: 'timed out' }), 'No answer in 10000 ms: timed out');
  assert.equal(w.attemptWords({ status: 503, latencyMs: 4, error: 'busy' }), 'HTTP 503 in 4 ms: busy');
  // The worker's words say the status already: not told twice.
  assert.equal(w.attemptWords({ status: 500, latencyMs: 3, error: 'HTTP 500 Internal Server Error' }), 'HTTP 500 Internal Server Error in 3 ms');
  assert.equal(w.answerWords(500, 'HTTP 500 Internal Server Error'), 'HTTP 500 Internal Server Error');
  assert.equal(w.answerWords(500, 'Internal Server Error'), 'HTTP 500: Internal Server Error');
  assert.equal(w.answerWords(null, 'connection refused'), 'connection refused');
});

test('the URL check mirrors the service: http(s), a host, no credentials, 2048 bytes', () => {
  assert.equal(w.urlProblem('https://pos.example/hooks'), null);
  assert.equal(w.urlProblem('  http://127.0.0.1:8080/x  '), null);
  assert.equal(w.urlProblem('https://hooks.example/{event}'), null, 'Passcreator’s {event} placeholder');
  assert.match(w.urlProblem(''), /Type the endpoint’s address/);
  assert.match(w.urlProblem('ftp://files.example/'), /must begin with http:\/\/ or https:\/\/, not ftp:/);
  assert.match(w.urlProblem('javascript:alert(1)'), /not javascript:/);
  assert.match(w.urlProblem('pos.example/hooks'), /begin it with https:\/\//);
  assert.match(w.urlProblem('https://'), /not a complete address/);
  assert.match(w.urlProblem('https://ann:pw@pos.example/'), /user name or password/);
  assert.match(w.urlProblem('https://pos.example/' + 'a'.repeat(2048)), /longer than 2048 bytes/);
});

test('a 422’s pointer names the field; addresses are shortened for a line', () => {
  assert.equal(w.fieldOf('/webhookSubscription/url'), 'url');
  assert.equal(w.fieldOf('/webhookSubscription/subscribedEvents/1'), 'subscribedEvents');
  assert.equal(w.fieldOf('/other'), null);
  assert.equal(w.fieldOf(null), null);
  assert.equal(w.shortUrl('https://pos.example/hooks'), 'pos.example/hooks');
  assert.equal(w.shortUrl('http://pos.example/hooks'), 'http://pos.example/hooks', 'plain http is worth seeing');
  assert.equal(w.shortUrl('https://x.example/' + 'a'.repeat(100), 20).length, 20);
});
