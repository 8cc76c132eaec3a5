// Passdesk's screens, routed by the URL fragment: #/gate, #/cashier, #/manager, #/status.
// `#/gate?reader=gate-a` picks the reader; `#key=…` (or `&key=…`) hands over the station's API
// key, which goes to sessionStorage and is wiped from the address bar at once. The fragment
// never leaves the browser, so the key is in no request line and no server log.
//
// What the key may open decides what is shown (`GET /api/v1/me`): the navigation lists the
// screens the station's key (or a person signed in on top of it, ./session.ts) may use, and a
// screen it may not use asks for a stronger key instead of failing request by request.

import './style.css';
import { api, ApiError, getKey, onFetchState, OfflineError, setKey, setOnUnauthorized } from './api/client';
import { openStream } from './api/stream';
import type { Decision, ScanDoc } from './api/types';
import type { ApiOptions, App, Screen } from './app';
import { clear, h } from './dom';
import { decisionMessage, holder } from './format';
import { aKey, atLeast, type Role } from './roles';
import {
  identify,
  IDLE_MS,
  isPersonKey,
  msLeft,
  onPersonChange,
  onTick,
  personKey,
  signedIn,
  signIn,
  signOut,
  touch,
  type Identity,
  type SignOutReason,
} from './session';
import { play } from './sound';
import { gate } from './screens/gate';
import { cashier } from './screens/cashier';
import { manager } from './screens/manager';
import { status } from './screens/status';
import { webhooks } from './screens/webhooks';
import { banner, type SyncStatus } from './sync-words';

const SCREENS: Record<string, Screen> = { gate, cashier, manager, webhooks, status };
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
const syncListeners = new Set<() => void>();
// Scan ids already shown (a decision can arrive twice: in the answer to our own POST and on the
// stream). Only recent ids can repeat, so the set is bounded: a kiosk runs for weeks.
const seen = new Set<string>();
const SEEN_MAX = 1000;
let streamUp = false;
let fetchUp = true;
let readerId = localStorage.getItem(READER_KEY) || 'desk-1';
let unmount: (() => void) | null = null;
let currentScreen = '';
/** The current route shows the sign-in for a stronger key instead of its screen. */
let locked = false;
let stopStream: (() => void) | null = null;
/** Who the station's key is; `null` until the service has said. */
let station: Identity | null = null;

const badge = h('span.badge', { 'data-testid': 'online-badge', role: 'status' });
// Toasts have a strip of their own under the screen (which scrolls above it): nothing of a
// screen, no button, ever sits under one. A few at most: the newest push the oldest out.
const toasts = h('div.toasts', { 'aria-live': 'polite', 'data-testid': 'toasts' });
const MAX_TOASTS = 3;
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
// The sync banner, on every screen of a counter that joined a hub: quiet while online, loud
// while the hub does not answer ("Offline since 14:05 · 132 scans waiting").
const syncBar = h('div.syncbar', { 'data-testid': 'sync-banner', role: 'status', hidden: true });

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
  // The same words again move to the newest place instead of filling the strip with copies.
  for (const old of Array.from(toasts.children)) if (old.textContent === text) old.remove();
  const t = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : undefined }, text);
  toasts.appendChild(t);
  while (toasts.children.length > MAX_TOASTS) toasts.firstElementChild?.remove();
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

/** The key that may make a call needing `need`: the station's when it may, else the signed-in
 * person's; none: nobody here may. */
function keyFor(need: Role): string | null {
  if (atLeast(station?.role, need)) return getKey();
  if (atLeast(signedIn()?.role, need)) return personKey();
  return null;
}

function call<T>(need: Role, method: string, path: string, opts: ApiOptions = {}): Promise<T> {
  const key = keyFor(need);
  if (!key) return Promise.reject(new ApiError(403, 'sign_in_needed', `This needs ${aKey(need)}: sign in first`));
  return api<T>(method, path, { ...opts, key });
}

const app: App = {
  reader: () => readerId,
  api: (method, path, opts) => call(opts?.as ?? 'reader', method, path, opts),
  can: (role) => atLeast(station?.role, role) || atLeast(signedIn()?.role, role),
  signIn: (role, why) => signInDialog(role, why),
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
  onSync(fn) {
    syncListeners.add(fn);
    return () => syncListeners.delete(fn);
  },
};

// ---- the sync banner ---------------------------------------------------------------------

/** How often the banner asks for the state (the stream's `sync` events and decisions ask
 * sooner), and how often its "synced 2 s ago" is rewritten. */
const SYNC_POLL_MS = 5000;
const SYNC_TICK_MS = 1000;
let syncStatus: SyncStatus | null = null;
let syncPoll: number | undefined;
let syncTick: number | undefined;

function renderSync(): void {
  const b = banner(syncStatus, new Date());
  syncBar.hidden = b.state === 'hidden';
  syncBar.dataset.state = b.state;
  syncBar.className = `syncbar sync-${b.state}`;
  if (syncBar.textContent !== b.text) syncBar.textContent = b.text;
  syncBar.title = b.title;
}

/** Reads the state now (and again after `SYNC_POLL_MS`). A failed read keeps the last state:
 * the Live / Offline badge speaks for the counter service itself. */
async function refreshSync(): Promise<void> {
  window.clearTimeout(syncPoll);
  try {
    // TODO(merge): `SyncDoc` from api/types.ts once the schema is regenerated.
    const doc = await app.api<{ data: { attributes: SyncStatus } }>('GET', '/api/v1/sync', { as: 'reader' });
    syncStatus = doc.data.attributes;
  } catch {
    // kept as it was
  } finally {
    renderSync();
    if (getKey()) syncPoll = window.setTimeout(() => void refreshSync(), SYNC_POLL_MS);
  }
}

let syncSoon: number | undefined;
/** A decision or a sync event: the state changed (pending, conflicts); read it shortly. */
function refreshSyncSoon(): void {
  window.clearTimeout(syncSoon);
  syncSoon = window.setTimeout(() => void refreshSync(), 300);
}

function startSync(): void {
  window.clearInterval(syncTick);
  syncTick = window.setInterval(renderSync, SYNC_TICK_MS);
  void refreshSync();
}

function stopSync(): void {
  window.clearTimeout(syncPoll);
  window.clearTimeout(syncSoon);
  window.clearInterval(syncTick);
  syncStatus = null;
  renderSync();
}

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
    // Space still presses a focused button or link and ticks a focused box (keyboard users); a
    // code rarely has one.
    const pressable =
      active instanceof HTMLButtonElement ||
      active instanceof HTMLAnchorElement ||
      (active instanceof HTMLInputElement && (active.type === 'checkbox' || active.type === 'radio'));
    if (e.key === ' ' && pressable) return;
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

function setReader(v: string): void {
  readerId = v;
  localStorage.setItem(READER_KEY, v);
  // The address says which reader too (a bookmark, a reload): keep it the same.
  const r = parseHash();
  r.params.set('reader', v);
  history.replaceState(null, '', `#/${r.name}?${r.params.toString()}`);
  toast(`This station scans as reader ${v}`);
  route();
}

readerInput.value = readerId;
readerInput.addEventListener('change', () => {
  const v = readerInput.value.trim();
  if (!v) return (readerInput.value = readerId), undefined;
  setReader(v);
});

/** A key bound to readers scans only as them: the box offers those and nothing else. */
const readerSelect = h('select#reader-select', {
  'aria-label': 'Reader',
  'data-testid': 'reader-select',
  title: 'The reader this station scans as (its key is bound to these)',
  onchange: () => setReader(readerSelect.value),
});
const readerBox = h('label.reader', h('span', 'Reader'), readerInput);

function renderReaderBox(): void {
  const bound = station?.readers ?? [];
  const field = bound.length ? readerSelect : readerInput;
  if (Array.from(readerSelect.options, (o) => o.value).join('\n') !== bound.join('\n')) {
    clear(readerSelect, ...bound.map((r) => h('option', { value: r }, r)));
  }
  if (!readerBox.contains(field)) clear(readerBox, h('span', 'Reader'), field);
  field.value = readerId;
}

/** Who signed in on top of the station, the time they have left, and Sign out. */
const personLeft = h('span.left', { 'data-testid': 'person-left' });
const personBox = h('div.person', { 'data-testid': 'person', hidden: true });

function clock(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function renderPerson(): void {
  const who = signedIn();
  personBox.hidden = !who;
  if (!who) return personBox.replaceChildren();
  personLeft.textContent = `${clock(msLeft())} left`;
  personLeft.title = `Signed out after ${IDLE_MS / 60_000} minutes without activity`;
  clear(
    personBox,
    h('span.who', { 'data-testid': 'person-name' }, h('b', who.role), ' ', who.name),
    personLeft,
    h('button.btn', { type: 'button', 'data-testid': 'sign-out', onclick: () => signOut('user') }, 'Sign out'),
  );
}

onTick((left) => (personLeft.textContent = `${clock(left)} left`));

const header = h('header.top', h('span.brand', 'Passdesk'), nav, personBox, readerBox, scanForm, badge);

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
        station = null;
        void start();
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

/** The screens the keys here may open, and those offered for a sign-in (a manager's at a till). */
function offered(s: Screen): boolean {
  return app.can(s.role) || (s.offeredAt !== undefined && atLeast(station?.role, s.offeredAt));
}

function renderNav(): void {
  clear(
    nav,
    ...Object.entries(SCREENS)
      .filter(([, s]) => offered(s))
      .map(([name, s]) =>
        h(
          'a',
          {
            href: `#/${name}?reader=${encodeURIComponent(readerId)}`,
            class: name === currentScreen ? 'active' : '',
            'data-screen': name,
            title: app.can(s.role) ? undefined : `Needs ${aKey(s.role)}: a sign-in`,
          },
          s.title,
        ),
      ),
  );
}

/** A form that takes a key and signs its holder in on top of the station when they may do
 * what `need` may; `done` runs once they are. */
function signInForm(need: Role, label: string, done: () => void): { el: HTMLElement; focus: () => void } {
  const input = h('input', {
    type: 'password',
    autocomplete: 'off',
    placeholder: `${need[0].toUpperCase()}${need.slice(1)}’s API key`,
    'aria-label': 'API key',
    'data-testid': 'signin-key',
  });
  const error = h('p.signin-error', { role: 'alert', 'data-testid': 'signin-error' });
  const submit = h('button.btn.btn-primary', { type: 'submit', 'data-testid': 'signin-submit' }, label);
  const el = h(
    'form.signin',
    {
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const key = input.value.trim();
        if (!key || submit.disabled) return;
        submit.disabled = true;
        error.textContent = '';
        try {
          const who = await identify(key);
          if (!atLeast(who.role, need)) {
            error.textContent = `That is ${aKey(who.role)}; this needs ${aKey(need)}.`;
            return;
          }
          input.value = '';
          signIn(key, who);
          done();
        } catch (err) {
          if (err instanceof ApiError && err.status === 401) error.textContent = 'That is not a valid key (unknown or revoked).';
          else if (err instanceof OfflineError) error.textContent = 'The counter service does not answer: try again.';
          else if (err instanceof ApiError) error.textContent = err.message;
          else throw err;
        } finally {
          submit.disabled = false;
        }
      },
    },
    input,
    submit,
    error,
  );
  return { el, focus: () => input.focus() };
}

const SIGNED_OUT_WORDS: Record<SignOutReason, string> = {
  user: 'Signed out.',
  idle: `Signed out after ${IDLE_MS / 60_000} minutes without activity.`,
  refused: 'The service refused that key (revoked?): signed out.',
};

/** A route to a screen the keys here may not open: what it needs, and a sign-in for it. */
function renderLocked(name: string, screen: Screen, note?: string): void {
  const form = signInForm(screen.role, 'Sign in', () => route());
  const whose =
    screen.role === 'manager'
      ? 'A manager signs in here with their own key'
      : `Sign in with ${aKey(screen.role)} or a stronger one`;
  clear(
    main,
    h(
      'section.locked',
      { 'data-testid': 'locked', 'data-screen': name },
      h('h1', screen.title),
      h('p', `This screen needs ${aKey(screen.role)}; this station’s key is ${aKey(station?.role ?? 'reader')}.`),
      h(
        'p.sub',
        `${whose}: it is kept in this window’s memory only, used for this screen’s requests, and forgotten ` +
          `after ${IDLE_MS / 60_000} minutes without activity or on Sign out.`,
      ),
      note ? h('p.note', { 'data-testid': 'locked-note' }, note) : null,
      form.el,
    ),
  );
  form.focus();
}

/** `app.signIn`: the same sign-in, in a dialog over the screen (an undo at a till). */
function signInDialog(need: Role, why: string): Promise<boolean> {
  if (app.can(need)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      dialog.remove();
      document.removeEventListener('keydown', onKey, true);
      app.focusScan();
      resolve(ok);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        finish(false);
      }
    };
    const form = signInForm(need, 'Sign in', () => finish(true));
    const dialog = h(
      'div.modal',
      { role: 'dialog', 'aria-modal': 'true', 'aria-label': `Sign in: ${aKey(need)}`, 'data-testid': 'signin-dialog' },
      h(
        'div.modal-box',
        h('p', why),
        h('p.sub', `Sign in with ${aKey(need)}: kept in memory only, forgotten after ${IDLE_MS / 60_000} minutes without activity.`),
        form.el,
        h('button.btn', { type: 'button', 'data-testid': 'signin-cancel', onclick: () => finish(false) }, 'Cancel'),
      ),
    );
    document.addEventListener('keydown', onKey, true);
    document.body.append(dialog);
    form.focus();
  });
}

function route(note?: string): void {
  if (!getKey()) return renderLogin();
  if (!station) return void start();
  const r = parseHash();
  const fromUrl = r.params.get('reader');
  if (fromUrl && fromUrl !== readerId) {
    readerId = fromUrl;
    readerInput.value = fromUrl;
    localStorage.setItem(READER_KEY, fromUrl);
  }
  // A key bound to readers scans only as them, whatever the address or the last visit said.
  if (station.readers.length && !station.readers.includes(readerId)) {
    readerId = station.readers[0];
    localStorage.setItem(READER_KEY, readerId);
  }
  if (fromUrl && fromUrl !== readerId) {
    r.params.set('reader', readerId);
    history.replaceState(null, '', `#/${r.name}?${r.params.toString()}`);
  }
  renderReaderBox();
  const screen = SCREENS[r.name];
  currentScreen = r.name;
  document.title = `Passdesk · ${screen.title}`;
  document.body.dataset.screen = r.name;
  renderNav();
  renderPerson();
  unmount?.();
  unmount = null;
  main.replaceChildren();
  if (!root.contains(header)) clear(root, header, syncBar, main, toasts);
  locked = !app.can(screen.role);
  if (locked) return renderLocked(r.name, screen, note);
  // The screen's calls go with the key that may make them (`App.api`).
  const scoped: App = { ...app, api: (method, path, opts) => call(opts?.as ?? screen.role, method, path, opts) };
  unmount = screen.mount(main, scoped, r.params);
  app.focusScan();
}

/** Whether the screen shown is open only thanks to the signed-in person (their screen). */
function personsScreen(): boolean {
  const s = SCREENS[currentScreen];
  return !!s && !locked && !atLeast(station?.role, s.role) && atLeast(signedIn()?.role, s.role);
}

// Their typing and clicks on their screen keep a signed-in person's key alive; the till's
// cashier working on beside them does not.
for (const type of ['keydown', 'pointerdown']) {
  document.addEventListener(type, () => personsScreen() && touch(), true);
}

onPersonChange((reason) => {
  renderPerson();
  if (reason === null) {
    // Signed in: a route that asked for it opens; a screen already open stays as it is.
    if (locked) route();
    else renderNav();
    return;
  }
  if (reason !== 'user') toast(SIGNED_OUT_WORDS[reason], 'info');
  if (!locked && SCREENS[currentScreen] && !app.can(SCREENS[currentScreen].role)) route(SIGNED_OUT_WORDS[reason]);
  else renderNav();
});

let starting = 0;
async function start(): Promise<void> {
  parseHash();
  const key = getKey();
  if (!key) return renderLogin();
  const attempt = ++starting;
  try {
    const who = await identify(key);
    if (attempt !== starting || key !== getKey()) return;
    station = who;
  } catch (e) {
    if (attempt !== starting) return;
    if (e instanceof ApiError && e.status === 401) return; // the refusal shows the sign-in page
    if (e instanceof OfflineError) {
      clear(root, h('div.login', h('h1', 'Passdesk'), h('p', 'The counter service does not answer yet: trying again.')));
      window.setTimeout(() => void start(), 2000);
      return;
    }
    if (e instanceof ApiError) return renderLogin(`This key cannot be used here: ${e.message}`);
    throw e;
  }
  stopStream?.();
  stopStream = openStream({
    onDecision: (s) => {
      ingest(s.attributes, false);
      refreshSyncSoon();
    },
    onState: (up) => {
      streamUp = up;
      renderBadge();
    },
    onSync: () => {
      refreshSyncSoon();
      for (const l of syncListeners) l();
    },
  });
  renderBadge();
  startSync();
  route();
}

setOnUnauthorized((key) => {
  if (isPersonKey(key)) return signOut('refused');
  // A key being tried at a sign-in is neither the station's nor a person's yet: its form says.
  if (key !== null && key !== getKey()) return;
  setKey(null);
  station = null;
  signOut('user');
  stopStream?.();
  stopStream = null;
  stopSync();
  renderLogin('This API key was refused (unknown or revoked). Enter a valid key.');
});

window.addEventListener('hashchange', () => {
  if (!getKey()) parseHash();
  if (!station || !stopStream) void start();
  else route();
});
void start();
