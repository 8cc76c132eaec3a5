// Entry gate: the whole screen green, red or amber with the reason in words to say aloud,
// this reader's counters for today and its last 10 scans. Driven by a keyboard-wedge scanner
// alone, with a reader key alone (`GET /api/v1/scans/today` for its own reader).

import type { Decision, ScanDay, ScanRecord } from '../api/types';
import type { Screen } from '../app';
import { clear, h } from '../dom';
import { decisionMessage, holder, localTime, localiseUtc, WARNING_WORDS } from '../format';
import { decisionConflict, type ConflictNote } from '../sync-words';
import { watchDay } from '../today';

interface Row {
  id: string;
  at: string;
  verdict: 'accept' | 'reject';
  warn: boolean;
  text: string;
  who: string;
  counted: boolean;
}

function rowOf(d: Decision): Row {
  return {
    id: d.scanId,
    at: d.at,
    verdict: d.verdict,
    warn: d.verdict === 'accept' && d.warnings.length > 0,
    text: decisionMessage(d) + (d.duplicateOf ? ' (same tap again)' : ''),
    who: holder(d),
    counted: !d.duplicateOf,
  };
}

function rowOfRecord(r: ScanRecord): Row {
  return {
    id: r.id,
    at: r.at,
    verdict: r.verdict,
    warn: false,
    text:
      localiseUtc(r.detail ?? (r.verdict === 'accept' ? 'Valid' : (r.reason ?? 'Rejected'))) +
      (r.duplicateOf ? ' (same tap again)' : ''),
    who: r.value.length > 24 ? r.value.slice(0, 21) + '…' : r.value,
    counted: !r.duplicateOf,
  };
}

export function outcomeOf(d: Decision): 'accept' | 'reject' | 'warning' {
  if (d.verdict === 'reject') return 'reject';
  return d.warnings.length ? 'warning' : 'accept';
}

const WORD = { accept: 'GO', reject: 'STOP', warning: 'CHECK' } as const;

export const gate: Screen = {
  title: 'Entry gate',
  role: 'reader',
  showsDecisions: true,
  mount(root, app) {
    const reader = app.reader();
    const panel = h('section.gate-panel.outcome-idle', { 'data-testid': 'gate-panel', 'data-outcome': 'idle' });
    const counters = h('div.counters', { 'data-testid': 'gate-counters' });
    const list = h('ol.lastscans', { 'data-testid': 'last-scans' });
    const side = h('aside.gate-side', h('h2', `Today at ${reader}`), counters, h('h2', 'Last 10 scans'), list);
    root.append(h('div.gate', panel, side));

    let rows: Row[] = [];
    let admitted = 0;
    let refused = 0;
    let idleTimer: number | undefined;

    const renderIdle = () => {
      panel.className = 'gate-panel outcome-idle';
      panel.dataset.outcome = 'idle';
      clear(
        panel,
        h('div.verdict', 'READY'),
        h('div.reason', `Scan a pass at ${reader}`),
        h('div.who', app.online() ? '' : 'No connection to the counter service: retrying'),
      );
    };

    const renderCounters = () =>
      clear(
        counters,
        h('div.count.count-in', h('span.num', { 'data-testid': 'count-admitted' }, admitted), h('span', 'admitted')),
        h('div.count.count-out', h('span.num', { 'data-testid': 'count-refused' }, refused), h('span', 'refused')),
      );

    const renderList = () =>
      clear(
        list,
        ...rows.slice(0, 10).map((r) =>
          h(
            'li',
            { class: `row-${r.warn ? 'warning' : r.verdict}`, 'data-scan': r.id },
            h('span.time', localTime(r.at)),
            h('span.mark', r.verdict === 'accept' ? (r.warn ? '!' : '✓') : '✗'),
            h('span.text', h('b', r.who), ' ', r.text),
          ),
        ),
      );

    const show = (d: Decision) => {
      const outcome = outcomeOf(d);
      panel.className = `gate-panel outcome-${outcome}`;
      panel.dataset.outcome = outcome;
      panel.dataset.scanId = d.scanId;
      const where = [d.pass?.templateName, d.pass?.eventName].filter(Boolean).join(' · ');
      // TODO(merge): `conflict` is in the generated Decision once the schema is regenerated.
      const conflict = decisionConflict(d as Decision & { conflict?: ConflictNote | null });
      clear(
        panel,
        h('div.verdict', WORD[outcome]),
        h('div.reason', { 'data-testid': 'gate-reason' }, decisionMessage(d)),
        h('div.who', holder(d), where ? h('span.where', where) : null),
        d.warnings.length ? h('div.warnings', d.warnings.map((w) => WARNING_WORDS[w] ?? w).join(' · ')) : null,
        conflict ? h('div.conflict', { 'data-testid': 'gate-conflict' }, conflict) : null,
        d.duplicateOf ? h('div.note', 'Same tap again: shown once more, not counted') : null,
        h('div.when', `${localTime(d.at)} · ${d.readerId}`),
      );
      clearTimeout(idleTimer);
      idleTimer = window.setTimeout(renderIdle, 12_000);
    };

    // The day's totals and latest scans are the service's, for this reader: a live decision
    // counts at once, and the day is fetched again shortly after (a busy day is counted right,
    // a missed event corrected); at the day's end it is fetched again and starts from zero.
    const day = watchDay(
      () => app.api<ScanDay>('GET', `/api/v1/scans/today?readerId=${encodeURIComponent(reader)}&limit=10`),
      (doc, newDay) => {
        admitted = doc.meta.totals.accepted;
        refused = doc.meta.totals.rejected;
        counters.dataset.dayStart = doc.meta.day.start;
        counters.dataset.dayEnd = doc.meta.day.end;
        const fetched = doc.data.map((x) => x.attributes);
        const known = new Map(rows.map((r) => [r.id, r]));
        const listed = new Set(fetched.map((r) => r.id));
        // Decisions seen live and not yet in the answer stay (the same day only).
        const live = newDay ? [] : rows.filter((r) => !listed.has(r.id) && r.at >= (fetched[fetched.length - 1]?.at ?? ''));
        rows = [...live, ...fetched.map((r) => known.get(r.id) ?? rowOfRecord(r))]
          .sort((a, b) => b.at.localeCompare(a.at))
          .slice(0, 10);
        renderCounters();
        renderList();
      },
      (_e, loadedBefore) => {
        if (!loadedBefore) app.toast('Could not load today’s scans: trying again', 'error');
      },
    );

    let refetch: number | undefined;
    const off = app.onDecision((d) => {
      if (d.readerId !== reader) return;
      show(d);
      if (!day.contains(d.at)) return; // a later day: its totals are being fetched
      rows = [rowOf(d), ...rows.filter((r) => r.id !== d.scanId)].slice(0, 10);
      if (!d.duplicateOf) {
        if (d.verdict === 'accept') admitted++;
        else refused++;
      }
      renderCounters();
      renderList();
      clearTimeout(refetch);
      refetch = window.setTimeout(day.refresh, 600);
    });
    const offOnline = app.onOnline(() => {
      if (panel.dataset.outcome === 'idle') renderIdle();
    });

    renderIdle();
    renderCounters();

    return () => {
      off();
      day.stop();
      clearTimeout(refetch);
      offOnline();
      clearTimeout(idleTimer);
    };
  },
};
