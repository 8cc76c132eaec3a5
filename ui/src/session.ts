// Who is at this screen: the station's key (what the kiosk or the link was given: a gate's
// reader key, a till's cashier key) and, on top of it, a person who signed in with their own
// key for what the station may not do (a manager at a till: the manager screen, an undo).
//
// The person's key is held in this module's memory only: never sessionStorage, localStorage or
// the address, so a reload, another tab or whoever comes to the kiosk next finds no trace of
// it. It is forgotten after IDLE_MS without activity (their typing and clicks on a screen that
// needs them; a screen refreshing itself is not someone there), on Sign out, and when the
// service refuses it.

import { api } from './api/client';
import type { MeDoc } from './api/types';
import { parseRole, type Role } from './roles';

export interface Identity {
  keyId: string;
  name: string;
  role: Role;
  /** The readers the key scans as; empty: any. */
  readers: string[];
}

/** Who `key` is, asked of the service (`GET /api/v1/me`). Throws `ApiError` (401: not a live
 * key) or `OfflineError`, as every call does. */
export async function identify(key: string): Promise<Identity> {
  const doc = await api<MeDoc>('GET', '/api/v1/me', { key });
  const a = doc.data.attributes;
  return {
    keyId: doc.data.id,
    name: a.name,
    // A role this screen does not know (a newer service) opens nothing beyond a reader's.
    role: parseRole(a.role) ?? 'reader',
    readers: a.readers,
  };
}

export const IDLE_MS = 10 * 60_000;

export type SignOutReason = 'user' | 'idle' | 'refused';

interface Person {
  key: string;
  who: Identity;
  lastActive: number;
}

let person: Person | null = null;
let ticker: number | undefined;
const changeListeners = new Set<(reason: SignOutReason | null) => void>();
const tickListeners = new Set<(msLeft: number) => void>();

/** Who signed in on top of the station, if anyone. */
export function signedIn(): Identity | null {
  return person?.who ?? null;
}

/** The signed-in person's key, for a request of a screen that needs them. */
export function personKey(): string | null {
  return person?.key ?? null;
}

export function isPersonKey(key: string | null): boolean {
  return key !== null && person?.key === key;
}

export function signIn(key: string, who: Identity): void {
  person = { key, who, lastActive: Date.now() };
  // One clock for the countdown on screen and the expiry: a timer that fires once could be
  // late after the machine slept; this looks at the time every second.
  clearInterval(ticker);
  ticker = window.setInterval(tick, 1000);
  for (const l of changeListeners) l(null);
}

export function signOut(reason: SignOutReason): void {
  if (!person) return;
  person = null;
  clearInterval(ticker);
  ticker = undefined;
  for (const l of changeListeners) l(reason);
}

/** Activity of the signed-in person (a key or a click on a screen that needs them). */
export function touch(): void {
  if (person) person.lastActive = Date.now();
}

export function msLeft(): number {
  return person ? Math.max(0, person.lastActive + IDLE_MS - Date.now()) : 0;
}

function tick(): void {
  const left = msLeft();
  if (left <= 0) return signOut('idle');
  for (const l of tickListeners) l(left);
}

/** Called on sign-in (`null`) and sign-out (why). */
export function onPersonChange(fn: (reason: SignOutReason | null) => void): () => void {
  changeListeners.add(fn);
  return () => changeListeners.delete(fn);
}

/** Called every second while someone is signed in, with the time left. */
export function onTick(fn: (msLeft: number) => void): () => void {
  tickListeners.add(fn);
  return () => tickListeners.delete(fn);
}
