// Unit tests of src/format.ts (the words and numbers on screen), compiled on the fly with the
// esbuild that Vite ships. Run in a fixed time zone so "local time" is known.
process.env.TZ = 'Europe/Berlin';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { transformWithEsbuild } from 'vite';

const src = new URL('../src/format.ts', import.meta.url);
const { code } = await transformWithEsbuild(readFileSync(src, 'utf8'), src.pathname, { loader: 'ts', format: 'esm' });
const f = await import('data:text/javascript;base64,' + Buffer.from(code).toString('base64'));

test('money: minor units as text, and back, without floats', () => {
  assert.equal(f.money(1250), '12.50');
  assert.equal(f.money(5), '0.05');
  assert.equal(f.money(-5), '-0.05');
  assert.equal(f.parseMoney('12.5'), 1250);
  assert.equal(f.parseMoney('12,50'), 1250);
  assert.equal(f.parseMoney(' 7 '), 700);
  assert.equal(f.parseMoney('0.07'), 7);
  assert.equal(f.parseMoney('1.234'), null);
  assert.equal(f.parseMoney('-3'), null);
  assert.equal(f.parseMoney('abc'), null);
});

test('already used: said in local time with the reader name', () => {
  // 12:05 of the local day the test runs on: said without a date whatever the zone and hour.
  const today = new Date();
  const at = new Date(today.getFullYear(), today.getMonth(), today.getDate(), 12, 5);
  const local = '12:05';
  const d = {
    reason: 'already_used',
    message: `Already used ${String(at.getUTCHours()).padStart(2, '0')}:05 UTC at Gate B`,
    previousUse: { scanId: 's', at: at.toISOString(), readerId: 'gate-b', readerName: 'Gate B' },
    warnings: [],
  };
  assert.equal(f.decisionMessage(d), `Already used ${local} at Gate B`);
  // A bounded policy keeps the service's words ("All 3 entries used").
  assert.equal(f.decisionMessage({ ...d, message: 'All 3 entries used', entries: { used: 3, limit: 3 } }), 'All 3 entries used');
});

test('UTC times inside other messages become local', () => {
  assert.match(f.localiseUtc('Expired 2020-01-02 10:30 UTC'), /^Expired .*11:30$/);
  assert.equal(f.localiseUtc('Valid'), 'Valid');
});
