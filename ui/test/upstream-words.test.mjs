// Unit tests of src/upstream-words.ts (the manager's PassEntry panel and the requests that need
// a person), bundled on the fly with the esbuild that Vite ships. Run in a fixed time zone so
// "local time" is known.
process.env.TZ = 'Europe/Berlin';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';

const out = await build({
  entryPoints: [new URL('../src/upstream-words.ts', import.meta.url).pathname],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
});
const w = await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));

// 2026-03-10 in Berlin (UTC+1): 13:05 UTC is 14:05 on the screen.
const now = new Date('2026-03-10T16:00:00Z');
const base = {
  configured: true,
  running: true,
  baseUrl: 'https://api.passentry.com',
  lastPullAt: '2026-03-10T13:05:00Z',
  lastPullPasses: 1204,
  passes: 1204,
  pullInProgress: null,
  queueLength: 0,
  refused: 0,
  uncertain: 0,
  lastError: null,
  lastErrorAt: null,
  lastPushAt: null,
};

test('the panel is hidden on a counter without a PassEntry account', () => {
  assert.equal(w.panel(null, now).hidden, true);
  assert.equal(w.panel({ ...base, configured: false }, now).hidden, true);
});

test('the panel line: last pull in local time, passes, waiting, refused', () => {
  const p = w.panel({ ...base, queueLength: 3, refused: 1 }, now);
  assert.equal(p.hidden, false);
  assert.equal(p.text, 'PassEntry · last pull 14:05 · 1,204 passes · 3 waiting · 1 refused');
  assert.equal(p.state, 'trouble');
  assert.equal(w.panel(base, now).text, 'PassEntry · last pull 14:05 · 1,204 passes');
  assert.equal(w.panel(base, now).state, 'ok');
  assert.equal(w.panel({ ...base, passes: 1, lastPullAt: null }, now).text, 'PassEntry · not pulled yet · 1 pass');
  assert.equal(w.panel({ ...base, queueLength: 2 }, now).state, 'busy');
  assert.equal(w.panel({ ...base, uncertain: 1, running: false }, now).text, 'PassEntry · last pull 14:05 · 1,204 passes · 1 uncertain · worker off');
});

test('a pull in progress says where it is; an error is the tooltip', () => {
  const p = w.panel({ ...base, pullInProgress: { cycle: 4, stage: 'passes', page: 7 }, lastError: 'cannot reach PassEntry at api.passentry.com: no answer within 30 s', lastErrorAt: '2026-03-10T15:59:00Z' }, now);
  assert.equal(p.text, 'PassEntry · pulling passes, page 7 · 1,204 passes');
  assert.equal(p.state, 'trouble');
  assert.equal(p.title, 'Last error at 16:59: cannot reach PassEntry at api.passentry.com: no answer within 30 s');
  assert.match(w.panel({ ...base, pullInProgress: { cycle: 4, stage: 'sweep', page: 1 } }, now).text, /checking passes not seen/);
  assert.equal(w.panel(base, now).title, 'PassEntry at https://api.passentry.com');
});

const request = {
  id: 7,
  outboxId: '0190',
  kind: 'scanLog',
  passId: '2258d9ed-05bc-47cd-be65-83b9bb5e0273',
  method: 'POST',
  path: '/api/v1/scans/log',
  body: '{"scan":{}}',
  state: 'refused',
  attempts: 1,
  status: 422,
  answer: '{"errors":[{"status":"422","title":"Unprocessable Entity","detail":"pass archived upstream"}]}',
  createdAt: '2026-03-10T13:05:00Z',
  doneAt: '2026-03-10T13:06:00Z',
};

test('a refused request says what it was and what PassEntry answered', () => {
  const r = w.requestWords(request, now);
  assert.equal(r.what, 'Scan of pass 2258d9ed');
  assert.equal(r.why, 'Refused (422): pass archived upstream');
  assert.equal(r.when, '14:06');
  assert.equal(w.answerWords('{"error":"Unauthorized"}'), 'Unauthorized');
  assert.equal(w.answerWords('<html>Bad gateway</html>'), '<html>Bad gateway</html>');
  assert.equal(w.answerWords('x'.repeat(300)).length, 200);
  assert.equal(w.answerWords(null), '');
});

test('a loyalty request in words: a change, an override, an uncertain read-back', () => {
  const loyalty = { ...request, kind: 'loyalty', path: '/api/v1/passes/2258d9ed/loyalty', body: '{"balance":5}' };
  assert.equal(w.requestWhat(loyalty), 'Points +5 for pass 2258d9ed');
  assert.equal(w.requestWhat({ ...loyalty, body: '{"balance":-3}' }), 'Points -3 for pass 2258d9ed');
  assert.equal(w.requestWhat({ ...loyalty, body: '{"overrideBalance":40}' }), 'Balance set to 40 for pass 2258d9ed');
  const u = w.requestWords({ ...loyalty, state: 'uncertain', status: null, answer: null, balanceBefore: 10, balanceExpected: 15, balanceFound: 12 }, now);
  assert.equal(u.why, 'Uncertain: not sent again (before 10, expected 15, found 12)');
});

test('a refused request may be sent again or marked handled; an uncertain one only marked handled', () => {
  const refused = { state: 'refused', handledAt: null };
  assert.deepEqual(
    w.requestActions(refused).map((a) => a.action),
    ['send-again', 'handled'],
  );
  const uncertain = { state: 'uncertain', handledAt: null };
  assert.deepEqual(
    w.requestActions(uncertain).map((a) => a.action),
    ['handled'],
  );
  assert.match(w.requestActions(uncertain)[0].title, /never sent again/);
  assert.deepEqual(w.requestActions({ state: 'refused', handledAt: '2026-03-10T13:05:00Z' }), []);
  assert.deepEqual(w.requestActions({ state: 'acknowledged', handledAt: null }), []);
});
