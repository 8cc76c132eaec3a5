// Webhooks in words, as the Webhooks page and the status screen show them: an endpoint's health
// at a glance (a colour's name and a sentence), its backlog, the delivery log, and the checks a
// form makes before it sends anything. Pure: no DOM, no requests; times in this screen's zone.

import type { WebhookEventName, WebhookFormat } from './api/types';
import { localTime } from './format';

// ---- formats and events -------------------------------------------------------------------

export const FORMATS = ['passentry', 'passcreator', 'skycore-xml', 'skycore-json', 'standard'] as const satisfies readonly WebhookFormat[];
export type FormatName = (typeof FORMATS)[number];

/** A format's name and what it carries, for the form's choice. */
export const FORMAT_WORDS: Record<FormatName, { name: string; about: string }> = {
  passentry: { name: 'PassEntry', about: 'PassEntry’s JSON:API body, signed in X-Webhook-Signature: every event.' },
  passcreator: { name: 'Passcreator', about: 'Passcreator’s flat JSON: passes created, updated and voided only.' },
  'skycore-xml': { name: 'Skycore XML postback', about: 'Skycore’s XML postback: passes created only.' },
  'skycore-json': { name: 'Skycore wallet JSON', about: 'Skycore’s wallet JSON postback: passes created and updated only.' },
  standard: { name: 'Standard Webhooks', about: 'The Standard Webhooks envelope {type, timestamp, data}: every event.' },
};

/** What a subscription may tick (PassEntry's names); none ticked means every one. */
export const EVENTS = [
  'passCreated',
  'passUpdated',
  'passVoided',
  'passTapped',
  'passLoyaltyUpdated',
  'passConflict',
] as const satisfies readonly WebhookEventName[];

/** Every format and event the API knows is offered here: tsc fails on this line when it knows
 * one more. */
export const OFFERS_ALL: [Exclude<WebhookFormat, FormatName>, Exclude<WebhookEventName, (typeof EVENTS)[number]>] extends [never, never]
  ? true
  : never = true;

export const EVENT_WORDS: Record<string, string> = {
  passCreated: 'Pass created',
  passUpdated: 'Pass updated',
  passVoided: 'Pass voided',
  passTapped: 'Pass scanned (every answer)',
  passScanned: 'Pass scanned (every answer)',
  passLoyaltyUpdated: 'Points or stamps changed',
  passConflict: 'Sync conflict',
  webhookTest: 'Test',
};

export function formatName(format: string): string {
  return (FORMAT_WORDS as Record<string, { name: string }>)[format]?.name ?? format;
}

export function eventName(event: string): string {
  return EVENT_WORDS[event] ?? event;
}

/** "Every event", or the ticked ones in words. */
export function eventsWords(events: readonly string[]): string {
  return events.length ? events.map(eventName).join(', ') : 'Every event';
}

// ---- a subscription's health ---------------------------------------------------------------

/** What the words are about; the page gives each its colour. `ok`: delivering; `new`: on, nothing
 * delivered yet; `failing`: on, but its last attempts failed; `stopped`: the counter turned it
 * off; `off`: a person turned it off. */
export type Health = 'ok' | 'new' | 'failing' | 'stopped' | 'off';

/** The fields of a subscription (or of its line on `/status`) that its health is read from. */
export interface HealthFacts {
  enabled: boolean;
  disabledReason?: string | null;
  lastSuccessAt?: string | null;
  failingSince?: string | null;
  backlog?: number | null;
}

export function health(s: HealthFacts): Health {
  if (!s.enabled) return s.disabledReason ? 'stopped' : 'off';
  if (s.failingSince) return 'failing';
  return s.lastSuccessAt ? 'ok' : 'new';
}

/** Why the counter turned a subscription off, in words. */
export function disabledWords(reason: string): string {
  if (reason === 'gone') return 'The endpoint answered 410 Gone: turned off';
  if (reason === 'failing') return 'Failing for 3 days: turned off';
  return `Turned off by the counter (${reason})`;
}

/** The one sentence that says how an endpoint is doing. */
export function healthWords(s: HealthFacts, now = new Date()): string {
  switch (health(s)) {
    case 'stopped':
      return disabledWords(s.disabledReason!);
    case 'off':
      return 'Turned off';
    case 'failing':
      return `Failing since ${localTime(s.failingSince!, now)}`;
    case 'ok':
      return 'Delivering';
    case 'new':
      return 'Nothing delivered yet';
  }
}

/** "132 waiting", "Nothing waiting"; held while off. */
export function backlogWords(s: HealthFacts): string {
  const n = s.backlog ?? 0;
  if (n === 0) return 'Nothing waiting';
  return s.enabled ? `${n} waiting` : `${n} waiting: sent when turned on again`;
}

export function lastSuccessWords(at: string | null | undefined, now = new Date()): string {
  return at ? `Last success ${localTime(at, now)}` : 'No success yet';
}

// ---- deliveries ----------------------------------------------------------------------------

/** The fields of a delivery its words are read from. */
export interface DeliveryFacts {
  state: string;
  attempts: number;
  nextAttemptAt?: string | null;
  doneAt?: string | null;
  lastStatus?: number | null;
  lastError?: string | null;
}

/** What the last answer was: "HTTP 500", "HTTP 500: Internal Server Error", "connection refused"
 * (an error that says its status already, "HTTP 500 Internal Server Error", is not told twice). */
export function answerWords(status: number | null | undefined, error: string | null | undefined): string {
  if (status == null) return error ?? '';
  if (!error) return `HTTP ${status}`;
  return error.startsWith(`HTTP ${status}`) ? error : `HTTP ${status}: ${error}`;
}

function attemptsWord(n: number): string {
  return `${n} attempt${n === 1 ? '' : 's'}`;
}

/** A delivery's state in words: delivered when, failed after how many, or what comes next. */
export function deliveryWords(d: DeliveryFacts, now = new Date()): string {
  const answer = answerWords(d.lastStatus, d.lastError);
  if (d.state === 'delivered') {
    return `Delivered${d.doneAt ? ' ' + localTime(d.doneAt, now) : ''}${d.lastStatus != null ? ` (HTTP ${d.lastStatus})` : ''}`;
  }
  if (d.state === 'failed') return `Failed after ${attemptsWord(d.attempts)}${answer ? ': ' + answer : ''}`;
  if (d.attempts === 0) return d.nextAttemptAt ? 'Waiting to be sent' : 'Held while the webhook is off';
  const next = d.nextAttemptAt ? `; next try ${localTime(d.nextAttemptAt, now)}` : '; held while the webhook is off';
  return `Not delivered yet (${attemptsWord(d.attempts)}${answer ? ', last: ' + answer : ''})${next}`;
}

/** A delivery's colour: delivered, failed (given up), retrying (an attempt failed), waiting. */
export function deliveryMark(d: DeliveryFacts): 'delivered' | 'failed' | 'retrying' | 'waiting' {
  if (d.state === 'delivered') return 'delivered';
  if (d.state === 'failed') return 'failed';
  return d.attempts > 0 ? 'retrying' : 'waiting';
}

/** What a test sent from the page came to. */
export function testWords(d: DeliveryFacts, now = new Date()): string {
  const answer = answerWords(d.lastStatus, d.lastError);
  if (d.state === 'delivered') return `Test delivered${d.lastStatus != null ? `: the endpoint answered ${d.lastStatus}` : ''}`;
  if (d.state === 'failed') return `Test failed after ${attemptsWord(d.attempts)}${answer ? ': ' + answer : ''}`;
  if (d.attempts === 0) return d.nextAttemptAt ? 'Test queued: waiting to be sent' : 'Test queued: held while the webhook is off';
  const next = d.nextAttemptAt ? `; next try ${localTime(d.nextAttemptAt, now)}` : '';
  return `Test not delivered yet: ${answer || 'no answer'} (${attemptsWord(d.attempts)})${next}`;
}

/** One attempt: "HTTP 500 in 12 ms", "no answer in 10000 ms: timed out". */
export function attemptWords(a: { status?: number | null; latencyMs: number; error?: string | null }): string {
  if (a.status == null) return `No answer in ${a.latencyMs} ms${a.error ? ': ' + a.error : ''}`;
  const told = a.error?.startsWith(`HTTP ${a.status}`);
  return `${told ? a.error : `HTTP ${a.status}`} in ${a.latencyMs} ms${a.error && !told ? ': ' + a.error : ''}`;
}

// ---- the form's checks ---------------------------------------------------------------------

/** Why `text` is not an endpoint the counter accepts (the service's own rules: absolute http or
 * https with a host, no user name or password, at most 2048 bytes); `null` when it is. */
export function urlProblem(text: string): string | null {
  const t = text.trim();
  if (!t) return 'Type the endpoint’s address (https://…)';
  if (new TextEncoder().encode(t).length > 2048) return 'The address is longer than 2048 bytes';
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    return /^[a-z][a-z0-9+.-]*:/i.test(t)
      ? `“${t}” is not a complete address`
      : `“${t}” is not a complete address: begin it with https:// (or http://)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `The address must begin with http:// or https://, not ${url.protocol}`;
  }
  if (!url.hostname) return 'The address names no host';
  if (url.username || url.password) return 'The address must not carry a user name or password: the secret signs each delivery';
  return null;
}

/** The form field a JSON pointer of a 422 names (`/webhookSubscription/url` → `url`). */
export function fieldOf(pointer: string | null | undefined): string | null {
  const m = /^\/webhookSubscription\/([^/]+)/.exec(pointer ?? '');
  return m ? m[1] : null;
}

/** The address shown in a line: `https://` dropped (plain `http://` stays, worth seeing), long
 * ones cut. */
export function shortUrl(url: string, max = 60): string {
  const t = url.replace(/^https:\/\//, '');
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}
