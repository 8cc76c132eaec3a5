// Words and numbers as the counter shows them: local times, money in minor units, reasons.

import type { Decision } from './api/types';

const pad = (n: number) => String(n).padStart(2, '0');

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "19:42" today, "Tue 12 Nov 19:42" another day, in this screen's time zone. */
/** `iso`: RFC 3339 text (the API's times), unix milliseconds (the sync documents'), or a Date. */
export function localTime(iso: string | number | Date, now = new Date()): string {
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (sameDay(d, now)) return hm;
  const day = d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
  return `${day} ${hm}`;
}

export function localDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toLocaleDateString()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The decision's message with its UTC times in local time ("Already used 19:42 at Gate B"). */
export function decisionMessage(d: Decision): string {
  if (d.reason === 'already_used' && d.previousUse && (!d.entries || d.entries.limit <= 1)) {
    return `Already used ${localTime(d.previousUse.at)} at ${d.previousUse.readerName}`;
  }
  return localiseUtc(d.message);
}

/** Rewrites "2026-11-23 19:42 UTC" and "19:42 UTC" (the service's wording) into local time. */
export function localiseUtc(text: string): string {
  return text
    .replace(/(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) UTC/g, (_, day, hm) => localTime(`${day}T${hm}:00Z`))
    .replace(/\b(\d{2}):(\d{2}) UTC/g, (_, hh, mm) => {
      const now = new Date();
      const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), +hh, +mm));
      return localTime(d);
    });
}

export const WARNING_WORDS: Record<string, string> = {
  removed_from_wallet: 'Removed from wallet: screenshot or printout',
  not_in_cache: 'Not in this counter yet: admitted by its signature',
  typed_id: 'Typed pass number: check the person',
};

/** Minor units as money with two decimals ("12.50"). Integers only, never floats. */
export function money(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const m = Math.abs(Math.trunc(minor));
  return `${sign}${Math.floor(m / 100)}.${pad(m % 100)}`;
}

/** "12.5" / "12,50" / "12" into minor units, or null. Parsed as text: no float rounding. */
export function parseMoney(text: string): number | null {
  const t = text.trim().replace(',', '.');
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(t);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

export function holder(d: Decision): string {
  return d.pass?.holderName || d.pass?.extId || (d.passId ? d.passId.slice(0, 8) : '');
}
