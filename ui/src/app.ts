// What every screen shares: the reader this station scans as, the scan bar, live decisions,
// toasts, the online badge, and the keys: the station's and a signed-in person's.

import type { CallOptions } from './api/client';
import type { Decision } from './api/types';
import type { Role } from './roles';

export interface ApiOptions extends CallOptions {
  /** The least role the call needs (default: the screen's). The station's key is sent when it
   * has that role, else the signed-in person's. */
  as?: Role;
}

export interface App {
  /** The reader id this station posts scans as (from `?reader=`, else remembered). */
  reader(): string;
  /** Subscribes to every decision this station sees (its own posts and the live stream). */
  onDecision(fn: (d: Decision, own: boolean) => void): () => void;
  /** Posts a scan (the scan bar calls this; tests type into it). */
  scan(value: string, medium?: 'manual' | 'serial' | 'qr'): Promise<Decision | null>;
  /** A call to the service with the key that may make it (see `ApiOptions.as`); refused with
   * `ApiError` 403 `sign_in_needed` when neither key may. */
  api<T>(method: string, path: string, opts?: ApiOptions): Promise<T>;
  /** Whether this screen may do what `role` may now (the station's key, or a signed-in person's). */
  can(role: Role): boolean;
  /** Asks for the key of someone who may do what `role` may (a manager for an undo), in a
   * dialog; resolves true once they signed in, false if cancelled. */
  signIn(role: Role, why: string): Promise<boolean>;
  toast(text: string, kind?: 'ok' | 'error' | 'info'): void;
  focusScan(): void;
  /** Decisions seen since the page loaded, newest first (at most 200). */
  recent: Decision[];
  online(): boolean;
  onOnline(fn: (online: boolean) => void): () => void;
  /** Subscribes to sync's news: it changed something here (a page from the hub applied, a
   * conflict), so what a screen shows may have changed. */
  onSync(fn: () => void): () => void;
}

export interface Screen {
  title: string;
  /** The least role whose key opens the screen. */
  role: Role;
  /** The navigation offers the screen at stations of this role even when it takes a person's
   * sign-in to open (the manager screen at a till). */
  offeredAt?: Role;
  /** The screen shows this station's decisions itself; others get a toast for each. */
  showsDecisions?: boolean;
  mount(root: HTMLElement, app: App, params: URLSearchParams): () => void;
}
