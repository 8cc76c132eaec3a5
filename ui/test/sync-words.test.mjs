// Unit tests of src/sync-words.ts (the sync banner, the conflicts in words), bundled on the fly
// with the esbuild that Vite ships. Run in a fixed time zone so "local time" is known.
process.env.TZ = 'Europe/Berlin';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';

const out = await build({
  entryPoints: [new URL('../src/sync-words.ts', import.meta.url).pathname],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
});
const w = await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));

// 2026-03-10 in Berlin (UTC+1): 13:05 UTC is 14:05 on the screen.
const now = new Date('2026-03-10T16:00:00Z');
const base = { joined: true, hubUrl: 'http://hub.local:8920', online: true, pending: 0, conflicts: 0, rejected: 0, pullCursor: 0 };

test('the banner is hidden on a counter without a hub', () => {
  assert.equal(w.banner(null, now).state, 'hidden');
  assert.equal(w.banner({ ...base, joined: false }, now).state, 'hidden');
});

test('online, the banner says when it last synced, from the newer of pull and push', () => {
  const b = w.banner({ ...base, lastPullAt: '2026-03-10T15:59:58Z', lastPushAt: '2026-03-10T15:00:00Z' }, now);
  assert.equal(b.state, 'online');
  assert.equal(b.text, 'Online · synced 2 s ago');
  assert.equal(w.banner({ ...base, lastPushAt: '2026-03-10T15:57:00Z' }, now).text, 'Online · synced 3 min ago');
  assert.equal(w.banner({ ...base, lastPullAt: '2026-03-10T16:00:00Z', pending: 4 }, now).text, 'Online · synced just now · 4 scans waiting');
  assert.equal(w.banner(base, now).text, 'Online · not synced yet');
});

test('offline, the banner says since when in local time and how much waits', () => {
  const b = w.banner(
    { ...base, online: false, offlineSince: '2026-03-10T13:05:00Z', pending: 132, lastError: 'cannot reach the hub' },
    now,
  );
  assert.equal(b.state, 'offline');
  assert.equal(b.text, 'Offline since 14:05 · 132 scans waiting');
  assert.match(b.title, /cannot reach the hub/);
  assert.equal(w.banner({ ...base, online: false, offlineSince: '2026-03-10T13:05:00Z', pending: 1 }, now).text, 'Offline since 14:05 · 1 scan waiting');
  // Another day: the day too.
  assert.match(w.banner({ ...base, online: false, offlineSince: '2026-03-08T13:05:00Z', pending: 0 }, now).text, /^Offline since .*8.* 14:05 · 0 scans waiting$/);
  assert.equal(w.banner({ ...base, online: false, pending: 3 }, now).text, 'Not synced yet · 3 scans waiting');
});

test('ago counts seconds, minutes, hours, then days', () => {
  assert.equal(w.ago('2026-03-10T15:59:59.500Z', now), 'just now');
  assert.equal(w.ago('2026-03-10T15:59:01Z', now), '59 s ago');
  assert.equal(w.ago('2026-03-10T14:00:00Z', now), '2 h ago');
  assert.equal(w.ago('2026-03-06T16:00:00Z', now), '4 days ago');
  // A counter's clock behind the hub's: never "-3 s ago".
  assert.equal(w.ago('2026-03-10T16:00:03Z', now), 'just now');
});

test('a conflict in words: its kind, both sides with counter, reader, local time and offline', () => {
  const c = {
    id: 'c1',
    kind: 'doubleAdmission',
    passId: 'p1',
    first: { nodeId: 'a', nodeName: 'Gate 1', refId: 's1', changeId: 'x1', at: '2026-03-10T18:42:00Z', offline: true, readerName: 'Gate A' },
    flagged: { nodeId: 'b', nodeName: 'Gate 2', refId: 's2', changeId: 'x2', at: '2026-03-10T18:44:00Z', offline: true, readerName: null },
    message: 'Admitted at Gate 1 (Gate A) at 18:42 UTC while offline',
    detectedAt: '2026-03-10T19:00:00Z',
  };
  const words = w.conflictWords(c, now);
  assert.equal(words.kind, 'Admitted twice');
  assert.equal(words.first, 'First: Gate 1 (Gate A) at 19:42, offline');
  assert.equal(words.flagged, 'Then: Gate 2 at 19:44, offline');
  assert.equal(w.conflictKind('negativeBalance'), 'Balance below zero');
  assert.equal(w.conflictKind('somethingNew'), 'somethingNew');
});

test("a decision's conflict is its message in local time, or nothing", () => {
  assert.equal(w.decisionConflict({}), null);
  assert.equal(w.decisionConflict({ conflict: null }), null);
  // The service says a time of its UTC day; the screen says it in local time, without a date
  // on the same local day. This minute is on the local day whatever the zone and hour.
  const pad = (n) => String(n).padStart(2, '0');
  const now = new Date();
  now.setSeconds(0, 0);
  const utc = `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}`;
  const local = `${pad(now.getHours())}:${pad(now.getMinutes())}`;
  const d = { conflict: { id: 'c1', kind: 'doubleAdmission', message: `Admitted at Gate A at ${utc} UTC while offline` } };
  assert.equal(w.decisionConflict(d), `Admitted at Gate A at ${local} while offline`);
});
