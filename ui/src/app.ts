// What every screen shares: the reader this station scans as, the scan bar, live decisions,
// toasts, the online badge.

import type { Decision } from './api/types';

export interface App {
  /** The reader id this station posts scans as (from `?reader=`, else remembered). */
  reader(): string;
  /** Subscribes to every decision this station sees (its own posts and the live stream). */
  onDecision(fn: (d: Decision, own: boolean) => void): () => void;
  /** Posts a scan (the scan bar calls this; tests type into it). */
  scan(value: string, medium?: 'manual' | 'serial' | 'qr'): Promise<Decision | null>;
  toast(text: string, kind?: 'ok' | 'error' | 'info'): void;
  focusScan(): void;
  /** Decisions seen since the page loaded, newest first (at most 200). */
  recent: Decision[];
  online(): boolean;
  onOnline(fn: (online: boolean) => void): () => void;
}

export interface Screen {
  title: string;
  /** The screen shows this station's decisions itself; others get a toast for each. */
  showsDecisions?: boolean;
  mount(root: HTMLElement, app: App, params: URLSearchParams): () => void;
}
