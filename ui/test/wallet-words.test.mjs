// Unit tests of src/wallet-words.ts (the holder page's address for the manager's QR, and the
// wallets in words), bundled on the fly with the esbuild that Vite ships.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';

const out = await build({
  entryPoints: [new URL('../src/wallet-words.ts', import.meta.url).pathname],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
});
const w = await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));

const path = '/p/0123456789abcdef0123456789abcdef';
const here = (href) => {
  const u = new URL(href);
  return { protocol: u.protocol, host: u.host, hostname: u.hostname };
};

test('the configured LAN address wins, with or without its trailing slash', () => {
  for (const base of ['http://192.168.1.20:8917', 'http://192.168.1.20:8917/', ' http://192.168.1.20:8917// ']) {
    assert.deepEqual(w.holderAddress(path, base, here('http://127.0.0.1:8917/')), { url: `http://192.168.1.20:8917${path}`, note: null });
  }
  assert.equal(w.holderAddress(path, 'https://shop.example/counter', here('http://10.0.0.2/')).url, `https://shop.example/counter${path}`);
});

test('without one, the address this screen was opened at, unless only this PC reaches it', () => {
  assert.deepEqual(w.holderAddress(path, null, here('http://192.168.1.20:8917/#/manager')), { url: `http://192.168.1.20:8917${path}`, note: null });
  assert.equal(w.holderAddress(path, undefined, here('https://counter.shop.lan/')).url, `https://counter.shop.lan${path}`);
  assert.equal(w.holderAddress(path, '', here('http://[fe80::1]:8917/')).url, `http://[fe80::1]:8917${path}`);
  for (const local of ['http://127.0.0.1:8917/', 'http://localhost:8917/', 'http://[::1]:8917/', 'http://127.1.2.3/', 'http://tauri.localhost/', 'tauri://localhost/', 'http://0.0.0.0:8917/']) {
    const a = w.holderAddress(path, null, here(local));
    assert.equal(a.url, null, local);
    assert.equal(a.note, w.NO_LAN_ADDRESS);
    assert.match(a.note, /\[wallet\] holder_base_url/);
  }
  // A file opened from disk has no host a phone could use.
  assert.equal(w.holderAddress(path, null, { protocol: 'file:', host: '', hostname: '' }).url, null);
});

test('a downloadUrl that is already whole is kept; one without its slash gets it', () => {
  assert.equal(w.holderAddress('https://download.passentry.com/x', 'http://lan', here('http://127.0.0.1/')).url, 'https://download.passentry.com/x');
  assert.equal(w.holderAddress(path.slice(1), 'http://lan:1', here('http://127.0.0.1/')).url, `http://lan:1${path}`);
});

test('loopback names', () => {
  for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '[::1]', '::1', 'tauri.localhost', '', '0.0.0.0']) assert.ok(w.isLoopback(h), h);
  for (const h of ['192.168.1.20', 'shop.lan', '10.0.0.1', '[fe80::1]', '127.example.com', 'localhost.shop.lan']) assert.ok(!w.isLoopback(h), h);
});

const ready = { state: 'ready', detail: null };
const missing = { state: 'notConfigured', detail: 'Apple Wallet is not set up on this counter ([wallet.apple] in passdesk.toml)' };
const broken = { state: 'broken', detail: 'Google Wallet is set up but cannot be used: the key file is not JSON' };

test('the manager sees a line per wallet that is not ready, and none for a ready one', () => {
  assert.deepEqual(w.missingWallets({ apple: ready, google: ready, holderBaseUrl: null }), []);
  assert.deepEqual(w.missingWallets({ apple: missing, google: broken }), [
    { wallet: 'apple', state: 'notConfigured', text: 'Apple Wallet: not set up — Apple Wallet is not set up on this counter ([wallet.apple] in passdesk.toml)' },
    { wallet: 'google', state: 'broken', text: 'Google Wallet: cannot be used — Google Wallet is set up but cannot be used: the key file is not JSON' },
  ]);
  assert.deepEqual(w.missingWallets({ apple: ready, google: { state: 'notConfigured' } }), [
    { wallet: 'google', state: 'notConfigured', text: 'Google Wallet: not set up — no reason given' },
  ]);
  assert.deepEqual(w.missingWallets(undefined), []);
});

test('the status screen rows: each wallet and the holder pages address', () => {
  assert.deepEqual(w.walletRows({ apple: ready, google: missing, holderBaseUrl: 'http://192.168.1.20:8917' }), [
    ['Apple Wallet', 'ready'],
    ['Google Wallet', `not set up: ${missing.detail}`],
    ['Holder pages at', 'http://192.168.1.20:8917'],
  ]);
  assert.match(w.walletRows({ apple: ready, google: ready })[2][1], /holder_base_url not set/);
  assert.deepEqual(w.walletRows(null), []);
});
