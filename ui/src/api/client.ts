// A thin fetch wrapper: bearer key, JSON:API errors as ApiError, and the online state.
//
// Two keys may be in use: the station's (this screen's own, from the link or the sign-in page,
// kept in sessionStorage: it survives a reload of the kiosk), and a person's who signed in on
// top of it for a screen the station may not open (a manager at a till; kept in memory only,
// see ../session.ts). A call says which with `key`; without it, the station's.

import type { ErrorDoc } from './types';

const KEY_STORAGE = 'passdesk.apiKey';

/** The station's key. */
export function getKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function setKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** A refusal from the service (it answered), as opposed to a network failure. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    /** Where in the request body the error is (a JSON pointer), when the service said. */
    public pointer: string | null = null,
  ) {
    super(message);
  }
}

/** The network failed (no answer): the UI shows the offline badge; the action may be retried. */
export class OfflineError extends Error {}

type Listener = (online: boolean) => void;
const listeners: Listener[] = [];
let fetchOnline = true;

export function onFetchState(l: Listener): void {
  listeners.push(l);
}

function setFetchOnline(v: boolean): void {
  if (v === fetchOnline) return;
  fetchOnline = v;
  for (const l of listeners) l(v);
}

/** Told which key the service refused (401: unknown or revoked), so that the station's key and a
 * person's are forgotten apart. */
export let onUnauthorized: (key: string | null) => void = () => {};
export function setOnUnauthorized(f: (key: string | null) => void): void {
  onUnauthorized = f;
}

export interface CallOptions {
  body?: unknown;
  idempotencyKey?: string;
  timeoutMs?: number;
  /** The key to send; default: the station's. */
  key?: string;
}

export async function api<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const key = opts.key ?? getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), opts.timeoutMs ?? 8000);
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: ctl.signal,
      cache: 'no-store',
    });
  } catch (e) {
    setFetchOnline(false);
    throw new OfflineError(`no answer from the counter service (${(e as Error).message})`);
  } finally {
    clearTimeout(timer);
  }
  setFetchOnline(true);
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = (json as ErrorDoc | null)?.errors?.[0];
    if (res.status === 401) onUnauthorized(key);
    throw new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.detail ?? res.statusText, err?.source?.pointer ?? null);
  }
  return json as T;
}

/** `GET` of a binary resource (an image) with the station's key: the body as a Blob, errors as
 * in `api`. */
export async function apiBlob(path: string, timeoutMs = 8000): Promise<Blob> {
  const headers: Record<string, string> = {};
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(path, { headers, signal: ctl.signal, cache: 'no-store' });
    } catch (e) {
      throw new OfflineError(`no answer from the counter service (${(e as Error).message})`);
    }
    if (!res.ok) {
      const err = ((await res.json().catch(() => null)) as ErrorDoc | null)?.errors?.[0];
      if (res.status === 401) onUnauthorized(key);
      throw new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.detail ?? res.statusText);
    }
    return await res.blob();
  } finally {
    clearTimeout(timer);
  }
}

/** A fresh UUID (v4). `crypto.randomUUID` exists only in secure contexts; a tablet on the LAN
 * over plain http is not one, so build it from `getRandomValues`, which exists everywhere. */
export function uuid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
