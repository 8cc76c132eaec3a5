// Sync with the hub in words: the banner every screen shows ("Offline since 14:05 · 132 scans
// waiting", "Online · synced 2 s ago"), a conflict the hub found (its kind, both sides: the
// counter, the reader, the local time, offline or not), and the conflict a decision carries.
// Pure: the screens pass the time in, the tests pin it.

import { localiseUtc, localTime } from './format';

// TODO(merge): alias these from the generated schema (`S['SyncStatus']`, `S['ConflictRecord']`,
// `S['ConflictNote']` in api/types.ts) once `npm run types` has run over the sync routes; they
// are typed here by hand until then, field for field as core/src/sync serialises them.
export interface SyncStatus {
  joined: boolean;
  hubUrl?: string | null;
  nodeName?: string | null;
  online: boolean;
  offlineSince?: string | null;
  lastPullAt?: string | null;
  lastPushAt?: string | null;
  lastError?: string | null;
  pending: number;
  conflicts: number;
  rejected: number;
  pullCursor: number;
}

export type ConflictKind = 'doubleAdmission' | 'doubleRedemption' | 'offlineRedemptionCap' | 'negativeBalance';

export interface ConflictSide {
  nodeId: string;
  nodeName: string;
  refId: string;
  changeId: string;
  at: string;
  offline: boolean;
  readerName?: string | null;
}

export interface ConflictRecord {
  id: string;
  kind: ConflictKind;
  passId: string;
  first: ConflictSide;
  flagged: ConflictSide;
  message: string;
  detectedAt: string;
}

/** What a decision carries about its pass's newest conflict (`decision.conflict`). */
export interface ConflictNote {
  id: string;
  kind: ConflictKind;
  message: string;
}

export type BannerState = 'hidden' | 'online' | 'offline' | 'waiting';

export interface Banner {
  state: BannerState;
  text: string;
  /** The last error, for a tooltip. */
  title: string;
}

/** "1 scan waiting", "132 scans waiting". */
export function waiting(pending: number): string {
  return `${pending} ${pending === 1 ? 'scan' : 'scans'} waiting`;
}

/** "just now", "2 s ago", "3 min ago", "2 h ago", "4 days ago". */
export function ago(iso: string, now: Date): string {
  const ms = now.getTime() - new Date(iso).getTime();
  if (Number.isNaN(ms)) return '';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs} h ago`;
  return `${Math.floor(hrs / 24)} days ago`;
}

/** The newer of two times (either may be missing). */
function newest(a?: string | null, b?: string | null): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return new Date(a).getTime() >= new Date(b).getTime() ? a : b;
}

/** The banner: hidden on a counter that joined no hub; quiet while online; loud offline. */
export function banner(s: SyncStatus | null, now: Date): Banner {
  if (!s || !s.joined) return { state: 'hidden', text: '', title: '' };
  const hub = s.hubUrl ? `the hub at ${s.hubUrl}` : 'the hub';
  if (s.online) {
    const last = newest(s.lastPullAt, s.lastPushAt);
    const synced = last ? `synced ${ago(last, now)}` : 'not synced yet';
    const behind = s.pending > 0 ? ` · ${waiting(s.pending)}` : '';
    return { state: 'online', text: `Online · ${synced}${behind}`, title: `Syncing with ${hub}` };
  }
  const why = s.lastError ? `: ${s.lastError}` : '';
  if (s.offlineSince) {
    return {
      state: 'offline',
      text: `Offline since ${localTime(s.offlineSince, now)} · ${waiting(s.pending)}`,
      title: `No answer from ${hub}${why}. Scans are decided here and go up when it answers.`,
    };
  }
  // Joined, and no round has reached the hub yet (nor failed).
  return { state: 'waiting', text: `Not synced yet · ${waiting(s.pending)}`, title: `Joined ${hub}; the first round has not finished` };
}

export const CONFLICT_KIND_WORDS: Record<ConflictKind, string> = {
  doubleAdmission: 'Admitted twice',
  doubleRedemption: 'Reward redeemed twice',
  offlineRedemptionCap: 'Offline redemptions over the cap',
  negativeBalance: 'Balance below zero',
};

export function conflictKind(kind: string): string {
  return CONFLICT_KIND_WORDS[kind as ConflictKind] ?? kind;
}

/** One side: "Gate 1 (Gate A) at 19:42, offline". */
export function sideWords(side: ConflictSide, now: Date): string {
  const where = side.readerName ? `${side.nodeName} (${side.readerName})` : side.nodeName;
  return `${where} at ${localTime(side.at, now)}${side.offline ? ', offline' : ''}`;
}

/** A conflict in words for the manager's list: what, then both sides, the flagged one second. */
export function conflictWords(c: ConflictRecord, now: Date): { kind: string; first: string; flagged: string; message: string } {
  return {
    kind: conflictKind(c.kind),
    first: `First: ${sideWords(c.first, now)}`,
    flagged: `Then: ${sideWords(c.flagged, now)}`,
    message: localiseUtc(c.message),
  };
}

/** The decision's conflict words, times in local time, or null when it has none. */
export function decisionConflict(d: { conflict?: ConflictNote | null }): string | null {
  return d.conflict?.message ? localiseUtc(d.conflict.message) : null;
}
