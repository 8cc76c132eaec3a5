// PassEntry as upstream in words: the manager's panel line ("PassEntry · last pull 14:05 ·
// 1,204 passes · 3 waiting · 1 refused") and each request that needs a person (refused, with
// PassEntry's answer; uncertain, with the balances a read-back found). Pure: the screen passes
// the time in, the tests pin it.
//
// The shapes are `GET /api/v1/upstream`'s (`UpstreamDoc` in the OpenAPI document), aliased in
// `src/api/types.ts`.

import { localTime } from './format';
import type { UpstreamAttributes, UpstreamDoc, UpstreamRequest } from './api/types';

export type { UpstreamAttributes, UpstreamDoc, UpstreamRequest };

/** "1,204" in the screen's locale (en: a comma every three digits). */
export function count(n: number): string {
  return n.toLocaleString('en');
}

export interface Panel {
  /** Hidden on a counter without `[upstream.passentry]`. */
  hidden: boolean;
  /** `ok`, `busy` (a pull running or requests waiting), `trouble` (an error, refused or
   * uncertain requests). */
  state: 'ok' | 'busy' | 'trouble';
  text: string;
  /** The last error, for a tooltip. */
  title: string;
}

/** The panel's line: "PassEntry · last pull 14:05 · 1,204 passes · 3 waiting · 1 refused". */
export function panel(s: UpstreamAttributes | null, now: Date): Panel {
  if (!s || !s.configured) return { hidden: true, state: 'ok', text: '', title: '' };
  const parts = ['PassEntry'];
  if (s.pullInProgress) {
    const p = s.pullInProgress;
    parts.push(p.stage === 'sweep' ? 'pulling: checking passes not seen' : `pulling ${p.stage}, page ${p.page}`);
  } else {
    parts.push(s.lastPullAt ? `last pull ${localTime(s.lastPullAt, now)}` : 'not pulled yet');
  }
  parts.push(`${count(s.passes)} ${s.passes === 1 ? 'pass' : 'passes'}`);
  if (s.queueLength > 0) parts.push(`${count(s.queueLength)} waiting`);
  if (s.refused > 0) parts.push(`${count(s.refused)} refused`);
  if (s.uncertain > 0) parts.push(`${count(s.uncertain)} uncertain`);
  if (!s.running) parts.push('worker off');
  const trouble = s.refused > 0 || s.uncertain > 0 || !!s.lastError;
  const busy = !!s.pullInProgress || s.queueLength > 0;
  const title = s.lastError
    ? `Last error${s.lastErrorAt ? ` at ${localTime(s.lastErrorAt, now)}` : ''}: ${s.lastError}`
    : s.baseUrl
      ? `PassEntry at ${s.baseUrl}`
      : 'PassEntry';
  return { hidden: false, state: trouble ? 'trouble' : busy ? 'busy' : 'ok', text: parts.join(' · '), title };
}

/** What a request was: "Scan of pass 2258d9ed" / "Points +5 for pass 2258d9ed" / "Balance set
 * to 40 for pass 2258d9ed". */
export function requestWhat(r: UpstreamRequest): string {
  const pass = `pass ${r.passId.slice(0, 8)}`;
  if (r.kind === 'scanLog') return `Scan of ${pass}`;
  try {
    const body = JSON.parse(r.body) as { balance?: number; overrideBalance?: number };
    if (typeof body.overrideBalance === 'number') return `Balance set to ${body.overrideBalance} for ${pass}`;
    if (typeof body.balance === 'number') return `Points ${body.balance > 0 ? '+' : ''}${body.balance} for ${pass}`;
  } catch {
    // A body that is not JSON is shown as it is below.
  }
  return `Loyalty change for ${pass}`;
}

/** PassEntry's answer in words: the `detail` (or `title`, `error`, `message`) of a JSON error,
 * else the text, at most 200 characters. */
export function answerWords(answer: string | null | undefined): string {
  if (!answer) return '';
  let text = answer;
  try {
    const v = JSON.parse(answer) as Record<string, unknown>;
    const errors = Array.isArray(v.errors) ? (v.errors as Record<string, unknown>[]) : [];
    const first = errors[0] ?? v;
    const said = [first.detail, first.title, first.error, first.message, typeof first === 'string' ? first : undefined].find(
      (x) => typeof x === 'string' && x.trim(),
    );
    if (typeof said === 'string') text = said;
  } catch {
    // Not JSON: the text itself.
  }
  text = text.trim();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** One request that needs a person, in words. */
export function requestWords(r: UpstreamRequest, now: Date): { what: string; why: string; when: string } {
  const when = localTime(r.doneAt ?? r.createdAt, now);
  if (r.state === 'uncertain') {
    const nums =
      r.balanceBefore != null || r.balanceExpected != null
        ? ` (before ${r.balanceBefore ?? '?'}, expected ${r.balanceExpected ?? '?'}, found ${r.balanceFound ?? '?'})`
        : '';
    return { what: requestWhat(r), why: `Uncertain: not sent again${nums}`, when };
  }
  const said = answerWords(r.answer);
  return { what: requestWhat(r), why: `Refused (${r.status ?? '?'})${said ? `: ${said}` : ''}`, when };
}

/** A person's word on a request that needs one (`POST /api/v1/upstream/requests/{id}/…`). */
export interface RequestAction {
  /** The last segment of the route: `send-again` or `handled`. */
  action: 'send-again' | 'handled';
  label: string;
  /** What the button does, for its tooltip. */
  title: string;
}

/** What a manager may do with a request: a refused one is sent again once its cause is fixed in
 * PassEntry, or marked handled when it was seen to by hand; an uncertain one may be in PassEntry
 * already, so it is only marked handled, once checked there. */
export function requestActions(r: UpstreamRequest): RequestAction[] {
  if (r.handledAt) return [];
  const handled: RequestAction = {
    action: 'handled',
    label: 'Mark handled',
    title:
      r.state === 'uncertain'
        ? 'Checked in PassEntry: stop showing it (it is never sent again)'
        : 'Seen to in PassEntry by hand: stop showing it (it is not sent)',
  };
  if (r.state === 'refused') {
    return [
      { action: 'send-again', label: 'Send again', title: 'The cause is fixed in PassEntry: send it again now, before later requests' },
      handled,
    ];
  }
  return r.state === 'uncertain' ? [handled] : [];
}
