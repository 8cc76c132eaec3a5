// Passdesk's screens, routed by the URL fragment: #/gate, #/cashier, #/manager, #/status.
// `#/gate?reader=gate-a` picks the reader; `#key=…` (or `&key=…`) hands over an API key, which
// goes to sessionStorage and is wiped from the address bar at once. The fragment never leaves
// the browser, so the key is in no request line and no server log.

import './style.css';
import { api, ApiError, getKey, onFetchState, OfflineError, setKey, setOnUnauthorized } from './api/client';
import { openStream } from './api/stream';
import type { Decision, ScanDoc } from './api/types';
import type { App, Screen } from './app';
import { clear, h } from './dom';
import { decisionMessage, holder } from './format';
import { play } from './sound';
import { gate } from './screens/gate';
import { cashier } from './screens/cashier';
import { manager } from './screens/manager';
import { status } from './screens/status';

const SCREENS: Record<string, Screen> = { gate, cashier, manager, status };
const READER_KEY = 'passdesk.reader';

interface Route {
  name: string;
  params: URLSearchParams;
}

function parseHash(): Route {
  const raw = location.hash.replace(/^#/, '');
  let path = raw;
  let query = '';
  const q = raw.indexOf('?');
  if (q >= 0) {
    path = raw.slice(0, q);
    query = raw.slice(q + 1);
  } else if (!raw.startsWith('/')) {
    path = '';
    query = raw; // "#key=…"
  }
  const params = new URLSearchParams(query);
  const key = params.get('key');
  if (key) {
    setKey(key);
    params.delete('key');
    const rest = params.toString();
    history.replaceState(null, '', `#${path || '/gate'}${rest ? '?' + rest : ''}`);
  }
  const name = path.replace(/^\//, '').split('/')[0] || 'gate';
  return { name: SCREENS[name] ? name : 'gate', params };
}

// ---- the shell --------------------------------------------------------------------------

const root = document.getElementById('app')!;
const decisionListeners = new Set<(d: Decision, own: boolean) => void>();
const onlineListeners = new Set<(o: boolean) => void>();
// Scan ids already shown (a decision can arrive twice: in the answer to our own POST and on the
// stream). Only recent ids can repeat, so the set is bounded: a kiosk runs for weeks.
const seen = new Set<string>();
const SEEN_MAX = 1000;
let streamUp = false;
let fetchUp = true;
let readerId = localStorage.getItem(READER_KEY) || 'desk-1';
let unmount: (() => void) | null = null;
let currentScreen = '';
let stopStream: (() => void) | null = null;

const badge = h('span.badge', { 'data-testid': 'online-badge', role: 'status' });
const toasts = h('div.toasts', { 'aria-live': 'polite' });
const scanInput = h('input#scan-input', {
  type: 'text',
  autocomplete: 'off',
  spellcheck: 'false',
  placeholder: 'Scan or type a code, then Enter',
  'aria-label': 'Scan',
  'data-testid': 'scan-input',
});
const readerInput = h('input#reader-input', {
  type: 'text',
  autocomplete: 'off',
  'aria-label': 'Reader',
  'data-testid': 'reader-input',
  title: 'The reader this station scans as',
});
const nav = h('nav.nav');
const main = h('main.screen');

function isOnline(): boolean {
  return streamUp && fetchUp;
}

function renderBadge(): void {
  const on = isOnline();
  badge.textContent = on ? 'Live' : 'Offline';
  badge.className = on ? 'badge badge-on' : 'badge badge-off';
  badge.title = on
    ? 'Connected: decisions arrive live'
    : streamUp
      ? 'The last request got no answer'
      : 'The live stream is disconnected; retrying';
  for (const l of onlineListeners) l(on);
}

onFetchState((on) => {
  fetchUp = on;
  renderBadge();
});

function toast(text: string, kind: 'ok' | 'error' | 'info' = 'info'): void {
  const t = h('div', { class: `toast toast-${kind}` }, text);
  toasts.appendChild(t);
  while (toasts.children.length > 4) toasts.firstElementChild?.remove();
  setTimeout(() => t.remove(), kind === 'error' ? 6000 : 3500);
}

function ingest(d: Decision, own: boolean): void {
  if (seen.has(d.scanId)) return;
  seen.add(d.scanId);
  if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value as string);
  app.recent.unshift(d);
  if (app.recent.length > 200) app.recent.length = 200;
  if (d.readerId === readerId) {
    play(d.verdict === 'reject' ? 'reject' : d.warnings.length ? 'warning' : 'accept');
  }
  for (const l of decisionListeners) l(d, own);
}

/** A code scanned on the manager or status screen still gets its answer, in words. */
function answerInToast(d: Decision): void {
  if (SCREENS[currentScreen]?.showsDecisions) return;
  const who = holder(d);
  const word = d.verdict === 'reject' ? 'Refused' : d.warnings.length ? 'Check' : 'OK';
  toast(`${word}: ${decisionMessage(d)}${who ? ' · ' + who : ''}`, d.verdict === 'reject' ? 'error' : 'ok');
}

const app: App = {
  reader: () => readerId,
  onDecision(fn) {
    decisionListeners.add(fn);
    return () => decisionListeners.delete(fn);
  },
  async scan(value, medium = 'manual') {
    const v = value.trim();
    if (!v) return null;
    try {
      const res = await api<ScanDoc>('POST', '/api/v1/scans', {
        body: { value: v, readerId, medium },
      });
      // (the stream may have brought it first: then this is a no-op)
      ingest(res.data.attributes, true);
      answerInToast(res.data.attributes);
      return res.data.attributes;
    } catch (e) {
      if (e instanceof OfflineError) toast('Not scanned: the counter service does not answer. Scan again.', 'error');
      else if (e instanceof ApiError) toast(`Not scanned: ${e.message}`, 'error');
      else throw e;
      return null;
    }
  },
  toast,
  focusScan: () => scanInput.focus({ preventScroll: true }),
  recent: [],
  online: isOnline,
  onOnline(fn) {
    onlineListeners.add(fn);
    return () => onlineListeners.delete(fn);
  },
};

// Keyboard-wedge scanners type fast and end with Enter. The scan box takes them wherever
// focus is (a button, a list, the page, after a dialog or a toast), unless someone is typing
// into another text field on purpose.
function isTypingField(el: Element | null): boolean {
  if (!el) return false;
  if (el === scanInput) return true;
  if (el instanceof HTMLTextAreaElement) return true;
  if (el instanceof HTMLInputElement) {
    return !['button', 'submit', 'checkbox', 'radio', 'range', 'reset', 'color', 'file'].includes(el.type);
  }
  // A <select> is not typed into: its type-ahead would swallow a code and change the choice.
  return (el as HTMLElement).isContentEditable === true;
}

// Keys typed into a number field (the cashier's amount), with when: a scanner's digits come in a
// burst, a person's do not. A burst of digits ending in Enter is a code, not an amount.
let numericBurst: number[] = [];

function takeBurstFrom(field: HTMLInputElement): void {
  const n = numericBurst.length;
  const typed = field.value.slice(-n);
  field.value = field.value.slice(0, field.value.length - n);
  field.dispatchEvent(new Event('input', { bubbles: true }));
  scanInput.value += typed;
  keyTimes.push(...numericBurst);
  numericBurst = [];
}

function isBurst(times: number[]): boolean {
  return times.length >= 4 && (times[times.length - 1] - times[0]) / (times.length - 1) < 30;
}

document.addEventListener(
  'keydown',
  (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const active = document.activeElement;
    // A number field (the cashier's amount) passes a scanner's code on to the scan box.
    if (active instanceof HTMLInputElement && active.dataset.numeric !== undefined) {
      const now = performance.now();
      if (e.key.length === 1 && /[0-9.,]/.test(e.key)) {
        const last = numericBurst[numericBurst.length - 1];
        if (last !== undefined && now - last > 60) numericBurst = [];
        numericBurst.push(now);
        return;
      }
      if (e.key.length === 1) {
        e.preventDefault();
        if (isBurst([...numericBurst, now])) takeBurstFrom(active);
        numericBurst = [];
        scanInput.focus({ preventScroll: true });
        scanInput.value += e.key;
        noteKey();
        return;
      }
      if (e.key === 'Enter' && isBurst([...numericBurst, now])) {
        // Not the amount's Enter (that adds points): the scanner's end of code.
        e.preventDefault();
        e.stopPropagation();
        takeBurstFrom(active);
        submitScan();
        return;
      }
      numericBurst = [];
      return;
    }
    if (isTypingField(active)) return;
    // Space still presses a focused button or link (keyboard users); a code rarely has one.
    if (e.key === ' ' && (active instanceof HTMLButtonElement || active instanceof HTMLAnchorElement)) return;
    if (e.key.length === 1) {
      e.preventDefault();
      scanInput.focus({ preventScroll: true });
      scanInput.value += e.key;
      noteKey();
    } else if (e.key === 'Enter' && scanInput.value) {
      e.preventDefault();
      submitScan();
    }
  },
  true,
);

// A keyboard-wedge scanner types a whole code in a burst (a few ms a key); a person does not.
// The audit log records which it was: `qr` for a scanner burst, `manual` for typing.
let keyTimes: number[] = [];
function noteKey(): void {
  keyTimes.push(performance.now());
}
function wedgeBurst(length: number): boolean {
  if (length < 4 || keyTimes.length < length) return false;
  const t = keyTimes.slice(-length);
  return (t[t.length - 1] - t[0]) / (t.length - 1) < 30;
}

let scanning = Promise.resolve();
function submitScan(): void {
  const value = scanInput.value;
  scanInput.value = '';
  const medium = wedgeBurst(value.length) ? 'qr' : 'manual';
  keyTimes = [];
  if (!value.trim()) return;
  // One scan after the other, in the order they were typed.
  scanning = scanning.then(() => app.scan(value, medium).then(() => undefined));
}

const scanForm = h(
  'form.scanbar',
  {
    onsubmit: (e: Event) => {
      e.preventDefault();
      submitScan();
      scanInput.focus();
    },
  },
  scanInput,
  h('button.btn', { type: 'submit' }, 'Enter'),
);

scanInput.addEventListener('input', noteKey);

readerInput.value = readerId;
readerInput.addEventListener('change', () => {
  const v = readerInput.value.trim();
  if (!v) return (readerInput.value = readerId), undefined;
  readerId = v;
  localStorage.setItem(READER_KEY, v);
  // The address says which reader too (a bookmark, a reload): keep it the same.
  const r = parseHash();
  r.params.set('reader', v);
  history.replaceState(null, '', `#/${r.name}?${r.params.toString()}`);
  toast(`This station scans as reader ${v}`);
  route();
});

const header = h(
  'header.top',
  h('span.brand', 'Passdesk'),
  nav,
  h('label.reader', h('span', 'Reader'), readerInput),
  scanForm,
  badge,
);

function renderLogin(message?: string): void {
  unmount?.();
  unmount = null;
  const input = h('input#key-input', {
    type: 'password',
    autocomplete: 'off',
    placeholder: 'API key',
    'aria-label': 'API key',
  });
  const form = h(
    'form.login',
    {
      onsubmit: (e: Event) => {
        e.preventDefault();
        if (!input.value.trim()) return;
        setKey(input.value.trim());
        start();
      },
    },
    h('h1', 'Passdesk'),
    h('p', message ?? 'Enter this counter’s API key (or open the link with #key=… that the service printed).'),
    input,
    h('button.btn.btn-primary', { type: 'submit' }, 'Sign in'),
  );
  clear(root, form);
  input.focus();
}

function route(): void {
  if (!getKey()) return renderLogin();
  const r = parseHash();
  const fromUrl = r.params.get('reader');
  if (fromUrl && fromUrl !== readerId) {
    readerId = fromUrl;
    readerInput.value = fromUrl;
    localStorage.setItem(READER_KEY, fromUrl);
  }
  const screen = SCREENS[r.name];
  currentScreen = r.name;
  document.title = `Passdesk · ${screen.title}`;
  document.body.dataset.screen = r.name;
  clear(
    nav,
    ...Object.entries(SCREENS).map(([name, s]) =>
      h('a', { href: `#/${name}?reader=${encodeURIComponent(readerId)}`, class: name === r.name ? 'active' : '' }, s.title),
    ),
  );
  unmount?.();
  main.replaceChildren();
  if (!root.contains(header)) clear(root, header, main, toasts);
  unmount = screen.mount(main, app, r.params);
  app.focusScan();
}

function start(): void {
  parseHash();
  if (!getKey()) return renderLogin();
  stopStream?.();
  stopStream = openStream({
    onDecision: (s) => ingest(s.attributes, false),
    onState: (up) => {
      streamUp = up;
      renderBadge();
    },
  });
  renderBadge();
  route();
}

setOnUnauthorized(() => {
  setKey(null);
  stopStream?.();
  stopStream = null;
  renderLogin('This API key was refused (unknown or revoked). Enter a valid key.');
});

window.addEventListener('hashchange', () => {
  if (!getKey()) parseHash();
  if (!stopStream && getKey()) start();
  else route();
});
start();
