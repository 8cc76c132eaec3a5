// Entry gate: the whole screen green, red or amber with the reason in words to say aloud,
// today's counters and the last 10 scans. Driven by a keyboard-wedge scanner alone.

import { api } from '../api/client';
import type { Decision, ScanRecord, ScanRecordList } from '../api/types';
import type { Screen } from '../app';
import { clear, h } from '../dom';
import { decisionMessage, holder, localTime, localiseUtc, WARNING_WORDS } from '../format';

interface Row {
  id: string;
  at: string;
  readerId: string;
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
    readerId: d.readerId,
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
    readerId: r.readerId,
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
  showsDecisions: true,
  mount(root, app) {
    const panel = h('section.gate-panel.outcome-idle', { 'data-testid': 'gate-panel', 'data-outcome': 'idle' });
    const counters = h('div.counters', { 'data-testid': 'gate-counters' });
    const list = h('ol.lastscans', { 'data-testid': 'last-scans' });
    const side = h('aside.gate-side', h('h2', 'Today, all readers'), counters, h('h2', 'Last 10 scans'), list);
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
        h('div.reason', `Scan a pass at ${app.reader()}`),
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
            { class: `row-${r.warn ? 'warning' : r.verdict}` },
            h('span.time', localTime(r.at)),
            h('span.mark', r.verdict === 'accept' ? (r.warn ? '!' : '✓') : '✗'),
            h('span.text', h('b', r.who), ' ', r.text),
            h('span.rdr', r.readerId),
          ),
        ),
      );

    const show = (d: Decision) => {
      const outcome = outcomeOf(d);
      panel.className = `gate-panel outcome-${outcome}`;
      panel.dataset.outcome = outcome;
      panel.dataset.scanId = d.scanId;
      panel.dataset.shownAt = String(Date.now()); // for the browser tests' latency check
      const where = [d.pass?.templateName, d.pass?.eventName].filter(Boolean).join(' · ');
      clear(
        panel,
        h('div.verdict', WORD[outcome]),
        h('div.reason', { 'data-testid': 'gate-reason' }, decisionMessage(d)),
        h('div.who', holder(d), where ? h('span.where', where) : null),
        d.warnings.length ? h('div.warnings', d.warnings.map((w) => WARNING_WORDS[w] ?? w).join(' · ')) : null,
        d.duplicateOf ? h('div.note', 'Same tap again: shown once more, not counted') : null,
        h('div.when', `${localTime(d.at)} · ${d.readerId}`),
      );
      clearTimeout(idleTimer);
      idleTimer = window.setTimeout(renderIdle, 12_000);
    };

    const off = app.onDecision((d) => {
      if (d.readerId === app.reader()) show(d);
      rows = [rowOf(d), ...rows.filter((r) => r.id !== d.scanId)].slice(0, 10);
      if (!d.duplicateOf) {
        if (d.verdict === 'accept') admitted++;
        else refused++;
      }
      renderCounters();
      renderList();
    });
    const offOnline = app.onOnline(() => {
      if (panel.dataset.outcome === 'idle') renderIdle();
    });

    renderIdle();
    renderCounters();
    // Today is the screen's local day. The service counts every scan since then (its limit on
    // the records it lists aside); a live decision counts at once and the totals are fetched
    // again shortly after, so a busy day is counted right and a missed event is corrected.
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const since = encodeURIComponent(midnight.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    let first = true;
    let refetch: number | undefined;
    const load = () =>
      api<ScanRecordList>('GET', `/api/v1/scans?since=${since}&limit=${first ? 10 : 1}`)
        .then((res) => {
          admitted = res.meta.totals.accepted;
          refused = res.meta.totals.rejected;
          if (first) {
            const known = new Set(rows.map((r) => r.id));
            const fresh = res.data.map((x) => x.attributes).filter((r) => !known.has(r.id));
            rows = [...rows, ...fresh.map(rowOfRecord)].sort((a, b) => b.at.localeCompare(a.at)).slice(0, 10);
            first = false;
          }
          renderCounters();
          renderList();
        })
        .catch(() => {
          if (first) app.toast('Could not load today’s scans', 'error');
        });
    void load();
    const offTotals = app.onDecision(() => {
      clearTimeout(refetch);
      refetch = window.setTimeout(load, 600);
    });

    return () => {
      off();
      offTotals();
      clearTimeout(refetch);
      offOnline();
      clearTimeout(idleTimer);
    };
  },
};
