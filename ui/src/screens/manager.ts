// Manager: issue a pass (its QR large on screen, printable, and a QR of its holder page for the
// customer's phone, with what is missing for Apple / Google Wallet), search passes (name, email, extId,
// code), void one, a pass's history (scans and loyalty), and today's scans with their flags.
// Opens with a manager's key: the station's when it is one (a manager's own tablet), else a
// manager signs in on top of a till's key; every request here is then theirs.

import { ApiError, OfflineError, uuid } from '../api/client';
import type {
  CreatePassRequest,
  EventList,
  LedgerEntry,
  LoyaltyDoc,
  PassDoc,
  PassPage,
  PassResource,
  ScanDay,
  ScanRecord,
  ScanRecordList,
  StatusDoc,
  SyncConflictList,
  TemplateList,
} from '../api/types';
import type { Screen } from '../app';
import { clear, h } from '../dom';
import { localDateTime, localiseUtc, localTime, money } from '../format';
import { qrSvg } from '../qr';
import { conflictWords } from '../sync-words';
import { panel as upstreamPanel, requestActions, requestWords, type RequestAction, type UpstreamDoc } from '../upstream-words';
import { watchDay } from '../today';
import { holderAddress, missingWallets, type WalletStatus } from '../wallet-words';

const contentOf = (p: PassResource) => p.attributes.passContent ?? {};
const nameOf = (p: PassResource) =>
  String(contentOf(p).fullName ?? contentOf(p).name ?? p.attributes.extId ?? p.id.slice(0, 8));

export const manager: Screen = {
  title: 'Manager',
  role: 'manager',
  offeredAt: 'cashier',
  mount(root, app) {
    const template = h('select#tpl', { required: true, 'data-testid': 'issue-template' });
    const event = h('select#evt', { 'data-testid': 'issue-event' }, h('option', { value: '' }, 'No event'));
    const fullName = h('input#fullname', { type: 'text', required: true, autocomplete: 'off', 'data-testid': 'issue-name' });
    const email = h('input#email', { type: 'email', autocomplete: 'off', 'data-testid': 'issue-email' });
    const balance = h('input#balance', { type: 'number', min: '0', step: '1', inputmode: 'numeric', 'data-testid': 'issue-balance' });
    const submit = h('button.btn.btn-primary.btn-big', { type: 'submit', 'data-testid': 'issue-submit' }, 'Issue pass');
    const issued = h('section.issued', { 'data-testid': 'issued' });
    const search = h('input#search', { type: 'search', placeholder: 'Name, email, extId or code…', 'aria-label': 'Search passes', 'data-testid': 'search-input' });
    const results = h('div.results', { 'data-testid': 'search-results' });
    const history = h('section.history', { 'data-testid': 'history' });
    const todayList = h('div', { 'data-testid': 'today-scans' });
    const today = h('section.today', h('h2', 'Today’s scans, all readers'), todayList);
    // Shown only on a counter that joined a hub and once there is a conflict to show.
    const conflictList = h('div', { 'data-testid': 'sync-conflicts' });
    const conflicts = h('section.conflicts', { hidden: true }, h('h2', 'Sync conflicts'), conflictList);
    // Shown only on a counter with a PassEntry account: its line and the requests it refused.
    const upstreamLine = h('p.upstream-line', { 'data-testid': 'upstream-line' });
    const upstreamList = h('ul.upstream-refused', { 'data-testid': 'upstream-refused' });
    const pullNow = h('button.btn', { type: 'button', 'data-testid': 'upstream-pull', onclick: () => void pullUpstream() }, 'Pull now');
    const upstream = h('section.upstream', { hidden: true, 'data-testid': 'upstream' }, h('h2', 'PassEntry'), upstreamLine, pullNow, upstreamList);

    const form = h(
      'form.issue',
      { onsubmit: (e: Event) => (e.preventDefault(), void issue()) },
      h('h2', 'Issue a pass'),
      h('label', { for: 'tpl' }, 'Template'),
      template,
      h('label', { for: 'evt' }, 'Event'),
      event,
      h('label', { for: 'fullname' }, 'Name'),
      fullName,
      h('label', { for: 'email' }, 'Email'),
      email,
      h('label', { for: 'balance' }, 'Initial points'),
      balance,
      submit,
    );
    const finder = h(
      'section.finder',
      h('h2', 'Find passes'),
      h(
        'form.searchbar',
        { onsubmit: (e: Event) => (e.preventDefault(), void find()) },
        search,
        h('button.btn', { type: 'submit' }, 'Search'),
      ),
      results,
      history,
    );
    root.append(h('div.manager', h('div.col', form), h('div.col', issued, upstream, conflicts, finder, today)));

    const fail = (e: unknown, what: string) => {
      if (e instanceof OfflineError) app.toast(`${what}: the counter service does not answer`, 'error');
      else if (e instanceof ApiError) app.toast(`${what}: ${e.message}`, 'error');
      else throw e;
    };

    const showPass = (p: PassResource) => {
      const value = p.attributes.barcode?.value ?? '';
      clear(
        issued,
        h(
          'div.issued-codes',
          h(
          'div.passcard.printable',
          h('h2', nameOf(p)),
          h('div.sub', [p.attributes.passTemplateName, p.attributes.eventName, p.attributes.status].filter(Boolean).join(' · ')),
          value ? qrSvg(value, `QR code for ${nameOf(p)}`) : h('p', 'This pass has no barcode.'),
          h('code.qrvalue', { 'data-testid': 'qr-value' }, value),
          ),
          holderPanel(p),
        ),
        h(
          'div.row',
          h('button.btn.btn-primary', { type: 'button', onclick: () => window.print() }, 'Print'),
          h('button.btn', { type: 'button', onclick: () => clear(issued) }, 'Close'),
        ),
      );
      issued.scrollIntoView({ block: 'start' });
    };

    /** The counter's wallets as `/status` told them at mount (they change only with a restart);
     * until it answers, the holder panel waits for it. */
    let resolveWallet: (w: WalletStatus | null) => void = () => {};
    const wallet = new Promise<WalletStatus | null>((ok) => (resolveWallet = ok));

    /** Under the pass card: a QR of the pass's holder page at an address the customer's phone
     * reaches (where it adds the pass to Apple or Google Wallet), or the sentence saying what to
     * set for one; then a line per wallet that is not ready, saying what is missing. */
    const holderPanel = (p: PassResource): HTMLElement => {
      const panel = h('div.holder', { 'data-testid': 'holder' });
      const link = p.attributes.downloadUrl;
      if (!link) return panel;
      void wallet.then((w) => {
        const address = holderAddress(link, w?.holderBaseUrl, window.location);
        const missing = missingWallets(w);
        clear(
          panel,
          h('h3', 'On the customer’s phone'),
          address.url
            ? h(
                'div.holder-qr',
                { 'data-testid': 'holder-qr' },
                qrSvg(address.url, `QR code of the pass page for ${nameOf(p)}`),
                h('p.small', 'The customer scans this with their phone’s camera to add the pass to Apple Wallet or Google Wallet.'),
                h('code.qrvalue', { 'data-testid': 'holder-url' }, address.url),
              )
            : h('p.holder-note', { 'data-testid': 'holder-note' }, address.note),
          missing.length
            ? h(
                'ul.wallet-missing',
                { 'data-testid': 'wallet-missing' },
                ...missing.map((m) => h('li', { 'data-wallet': m.wallet, 'data-state': m.state }, m.text)),
              )
            : null,
        );
      });
      return panel;
    };

    /** The issue that got no answer: sending the same form again is a retry of it, under the
     * same Idempotency-Key, so the service makes one pass however often it is sent. Any answer
     * (issued or refused), or a change to the form, ends the intent. */
    let unanswered: { body: string; key: string } | null = null;

    async function issue(): Promise<void> {
      if (submit.disabled) return;
      const content: Record<string, unknown> = { fullName: fullName.value.trim() };
      if (email.value.trim()) content.email = email.value.trim();
      const body: CreatePassRequest = { passTemplate: template.value, pass: content };
      if (event.value) body.eventUuid = event.value;
      if (balance.value !== '') body.initialBalance = Math.trunc(Number(balance.value));
      const text = JSON.stringify(body);
      const intent = unanswered?.body === text ? unanswered : { body: text, key: uuid() };
      submit.disabled = true;
      try {
        const doc = await app.api<PassDoc>('POST', '/api/v1/passes', { body, idempotencyKey: intent.key });
        unanswered = null;
        showPass(doc.data);
        app.toast(`Pass issued for ${nameOf(doc.data)}`, 'ok');
        fullName.value = '';
        email.value = '';
        balance.value = '';
      } catch (e) {
        if (e instanceof OfflineError) {
          unanswered = intent;
          app.toast('Not issued: the counter service does not answer. Issue again to retry (it makes one pass).', 'error');
        } else {
          unanswered = null;
          fail(e, 'Not issued');
        }
      } finally {
        submit.disabled = false;
      }
    }

    async function find(): Promise<void> {
      const q = search.value.trim();
      try {
        const page = await app.api<PassPage>('GET', `/api/v1/passes?perPage=50${q ? '&search=' + encodeURIComponent(q) : ''}`);
        renderResults(page);
      } catch (e) {
        fail(e, 'Search failed');
      }
    }

    function renderResults(page: PassPage): void {
      if (!page.data.length) return clear(results, h('p.sub', 'No pass matches.'));
      clear(
        results,
        h('p.sub', `${page.meta?.totalCount ?? page.data.length} found`),
        h(
          'table.table',
          h('thead', h('tr', h('th', 'Name'), h('th', 'Template'), h('th', 'Status'), h('th.code', 'Code'), h('th', ''))),
          h(
            'tbody',
            ...page.data.map((p) =>
              h(
                'tr',
                { 'data-pass': p.id },
                h('td', nameOf(p), contentOf(p).email ? h('div.small', String(contentOf(p).email)) : null),
                h('td', p.attributes.passTemplateName ?? p.attributes.passTemplateUuid),
                h('td', { class: `pass-status pass-status-${p.attributes.status}` }, p.attributes.status),
                h('td.code', (p.attributes.barcode?.value ?? '').slice(0, 18)),
                h(
                  'td',
                  h(
                    'div.rowactions',
                    h('button.btn', { type: 'button', onclick: () => showPass(p) }, 'QR'),
                  h('button.btn', { type: 'button', onclick: () => void showHistory(p) }, 'History'),
                  p.attributes.status === 'voided'
                    ? null
                    : h('button.btn.btn-danger', { type: 'button', 'data-action': 'void', onclick: () => void voidPass(p) }, 'Void'),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    }

    async function voidPass(p: PassResource): Promise<void> {
      if (!confirmInline(`Void the pass of ${nameOf(p)}? It will be refused at every counter.`)) return;
      try {
        await app.api<PassDoc>('PATCH', `/api/v1/passes/${encodeURIComponent(p.id)}`, { body: { passAction: 'void' } });
        app.toast(`Voided: ${nameOf(p)}`, 'ok');
        await find();
      } catch (e) {
        fail(e, 'Not voided');
      }
    }

    async function showHistory(p: PassResource): Promise<void> {
      try {
        const id = encodeURIComponent(p.id);
        const [doc, scans] = await Promise.all([
          app.api<LoyaltyDoc>('GET', `/api/v1/passes/${id}/loyalty`),
          app.api<ScanRecordList>('GET', `/api/v1/scans?passId=${id}&limit=50`),
        ]);
        const entries: LedgerEntry[] = doc.included.map((x) => x.attributes);
        const v = doc.data.attributes;
        clear(
          history,
          h('h2', `History: ${nameOf(p)}`),
          h('h3', 'Scans'),
          scans.data.length ? scanTable(scans.data.map((x) => x.attributes), false) : h('p.sub', 'Never scanned.'),
          h('h3', 'Loyalty'),
          v ? h('p', `${v.balance} points · ${v.stamps} stamps · ${v.rewards.length} reward(s) ready`) : h('p.sub', 'No loyalty program.'),
          entries.length
            ? h(
                'table.table',
                h('thead', h('tr', h('th', 'When'), h('th', 'What'), h('th', 'Points'), h('th', 'Stamps'), h('th', 'Amount'), h('th', 'Note'))),
                h(
                  'tbody',
                  ...entries
                    .slice()
                    .reverse()
                    .map((e) =>
                      h(
                        'tr',
                        { 'data-kind': e.kind },
                        h('td', localDateTime(e.at)),
                        h('td', e.kind.replace(/_/g, ' ')),
                        h('td.num', e.points ? String(e.points) : ''),
                        h('td.num', e.stamps ? String(e.stamps) : ''),
                        h('td.num', e.amountMinor != null ? money(e.amountMinor) : ''),
                        h('td', e.reason ?? ''),
                      ),
                    ),
                ),
              )
            : h('p.sub', 'No entries.'),
        );
        history.scrollIntoView({ block: 'nearest' });
      } catch (e) {
        fail(e, 'No history');
      }
    }

    /** Scans as rows: when, where, the answer in words, and the flags a manager checks after
     * a day with the network down (admitted by signature alone, decided on another counter). */
    function scanTable(recs: ScanRecord[], withCode: boolean): HTMLElement {
      return h(
        'table.table.scans',
        h('thead', h('tr', h('th', 'Time'), h('th', 'Reader'), h('th', 'Answer'), withCode ? h('th', 'Code') : null, h('th', 'Flags'))),
        h(
          'tbody',
          ...recs.map((r) => {
            const flags = scanFlags(r);
            return h(
              'tr',
              { 'data-scan': r.id, class: `scan-${r.verdict}`, 'data-flags': flags.map((f) => f.code).join(' ') },
              h('td.time', localTime(r.at)),
              h('td', r.readerId),
              h('td', h('b', r.verdict === 'accept' ? '✓ ' : '✗ '), localiseUtc(r.detail ?? r.reason ?? r.verdict)),
              withCode ? h('td.code', r.value.length > 20 ? r.value.slice(0, 19) + '…' : r.value) : null,
              h('td', ...flags.map((f) => h('span', { class: `flag flag-${f.code}`, title: f.title }, f.text))),
            );
          }),
        ),
      );
    }

    function scanFlags(r: ScanRecord): { code: string; text: string; title: string }[] {
      const out = [];
      if (r.viaToken) {
        out.push({ code: 'offline', text: 'Offline: by signature', title: 'Not in this counter’s cache: admitted on its signed code alone' });
      }
      if (nodeId && r.nodeId !== nodeId) {
        out.push({ code: 'other-node', text: `Counter ${r.nodeId.slice(0, 8)}`, title: 'Decided on another counter and synced here' });
      }
      if (r.duplicateOf) out.push({ code: 'repeat', text: 'Repeat tap', title: 'The same tap again: not counted twice' });
      if (r.medium === 'manual') out.push({ code: 'manual', text: 'Typed', title: 'Typed in by hand, not scanned' });
      return out;
    }

    /** The conflicts the hub found, newest first, in words: what happened, where and when on
     * both sides (offline or not), the flagged one second. Read at mount, after a sync event
     * and a decision (a scan may be the one flagged), and every half minute. */
    const showConflicts = (list: SyncConflictList) => {
      conflicts.hidden = list.meta.totalCount === 0;
      const now = new Date();
      clear(
        conflictList,
        h('p.sub', { 'data-testid': 'conflict-count' }, `${list.meta.totalCount} ${list.meta.totalCount === 1 ? 'conflict' : 'conflicts'} found by the hub${list.data.length < list.meta.totalCount ? ` · the newest ${list.data.length} shown` : ''}`),
        h(
          'ul.conflict-list',
          ...list.data.map(({ id, attributes: c }) => {
            const w = conflictWords(c, now);
            return h(
              'li',
              { 'data-conflict': id, 'data-kind': c.kind, 'data-pass': c.passId },
              h('b.kind', w.kind),
              ' ',
              h('span.message', w.message),
              h('div.side', w.first),
              h('div.side.flagged', w.flagged),
              h('div.small', `Pass ${c.passId.slice(0, 8)} · found ${localTime(c.detectedAt, now)}`),
            );
          }),
        ),
      );
    };
    let conflictTimer: number | undefined;
    const loadConflicts = () => {
      window.clearTimeout(conflictTimer);
      app
        .api<Parameters<typeof showConflicts>[0]>('GET', '/api/v1/sync/conflicts?limit=50')
        .then(showConflicts)
        .catch(() => {})
        .finally(() => {
          if (!unmounted) conflictTimer = window.setTimeout(loadConflicts, 30_000);
        });
    };
    const offSync = app.onSync(loadConflicts);

    /** The PassEntry account: the panel's line, and the requests PassEntry refused (with its
     * answer) or a read-back could not settle, newest first. Read at mount, after a decision
     * and every half minute. */
    const showUpstream = (d: UpstreamDoc) => {
      const now = new Date();
      const p = upstreamPanel(d.data.attributes, now);
      upstream.hidden = p.hidden;
      upstreamLine.textContent = p.text;
      upstreamLine.title = p.title;
      upstreamLine.dataset.state = p.state;
      pullNow.hidden = !d.data.attributes.running;
      clear(
        upstreamList,
        ...(d.included ?? []).map(({ id, attributes: r }) => {
          const w = requestWords(r, now);
          const buttons = requestActions(r).map((a) =>
            h(
              'button.btn',
              { type: 'button', title: a.title, 'data-action': a.action, onclick: () => void settleRequest(id, a, w.what) },
              a.label,
            ),
          );
          return h(
            'li',
            { 'data-request': id, 'data-state': r.state },
            h('b', w.what),
            ' ',
            h('span.why', w.why),
            h('div.small', w.when),
            buttons.length > 0 && h('div.actions', ...buttons),
          );
        }),
      );
    };
    let upstreamTimer: number | undefined;
    const loadUpstream = () => {
      window.clearTimeout(upstreamTimer);
      app
        .api<UpstreamDoc>('GET', '/api/v1/upstream')
        .then(showUpstream)
        .catch(() => {})
        .finally(() => {
          if (!unmounted) upstreamTimer = window.setTimeout(loadUpstream, 30_000);
        });
    };
    /** A manager's word on a refused or uncertain request; the panel is read again after. */
    async function settleRequest(id: string, a: RequestAction, what: string): Promise<void> {
      try {
        await app.api('POST', `/api/v1/upstream/requests/${encodeURIComponent(id)}/${a.action}`);
        app.toast(a.action === 'send-again' ? `Sending again: ${what}` : `Marked handled: ${what}`, 'ok');
      } catch (e) {
        fail(e, a.action === 'send-again' ? 'Not sent again' : 'Not marked handled');
      }
      loadUpstream();
    }
    async function pullUpstream(): Promise<void> {
      try {
        showUpstream(await app.api<UpstreamDoc>('POST', '/api/v1/upstream/pull'));
        app.toast('Pulling from PassEntry…', 'info');
      } catch (e) {
        fail(e, 'Pull not started');
      }
    }

    let nodeId = '';
    /** Today's scans at every reader: the service's day (the counter's zone), fetched again
     * shortly after each decision and at the day's end. */
    let todayWatch: ReturnType<typeof watchDay> | null = null;
    const showToday = (res: ScanDay) => {
      const t = res.meta.totals;
      todayList.dataset.dayStart = res.meta.day.start;
      clear(
        todayList,
        h('p.sub', { 'data-testid': 'today-totals' }, `${t.accepted} admitted · ${t.rejected} refused${res.data.length < t.accepted + t.rejected ? ` · the last ${res.data.length} shown` : ''}`),
        res.data.length ? scanTable(res.data.map((x) => x.attributes), true) : h('p.sub', 'No scans yet today.'),
      );
    };
    let todayTimer: number | undefined;
    const offDecision = app.onDecision(() => {
      clearTimeout(todayTimer);
      todayTimer = window.setTimeout(() => {
        todayWatch?.refresh();
        loadConflicts();
        loadUpstream();
      }, 500);
    });

    // The browser's confirm() is modal and would swallow a scanner's keystrokes; a second tap
    // on the same button within a few seconds confirms instead.
    let pending: { text: string; until: number } | null = null;
    function confirmInline(text: string): boolean {
      if (pending && pending.text === text && Date.now() < pending.until) {
        pending = null;
        return true;
      }
      pending = { text, until: Date.now() + 5000 };
      app.toast(`${text} Tap Void again to confirm.`, 'info');
      return false;
    }

    Promise.all([
      app.api<TemplateList>('GET', '/api/v1/passTemplates'),
      app.api<EventList>('GET', '/api/v1/events'),
    ])
      .then(([t, ev]) => {
        clear(template, ...t.data.map((x) => h('option', { value: x.id }, x.attributes.name)));
        event.append(...ev.data.map((x) => h('option', { value: x.id }, x.attributes.name)));
      })
      .catch((e) => fail(e, 'Templates not loaded'));
    void find();
    let unmounted = false;
    loadConflicts();
    loadUpstream();
    app
      .api<StatusDoc>('GET', '/api/v1/status')
      .then((st) => {
        nodeId = st.data.attributes.nodeId;
        resolveWallet(st.data.attributes.wallet ?? null);
      })
      .catch(() => {})
      .finally(() => {
        resolveWallet(null);
        if (unmounted) return;
        todayWatch = watchDay(
          () => app.api<ScanDay>('GET', '/api/v1/scans/today?limit=100'),
          showToday,
          (e, loadedBefore) => {
            if (!loadedBefore && !(e instanceof OfflineError)) fail(e, 'Today’s scans not loaded');
          },
        );
      });
    return () => {
      unmounted = true;
      offDecision();
      offSync();
      clearTimeout(conflictTimer);
      clearTimeout(upstreamTimer);
      todayWatch?.stop();
      clearTimeout(todayTimer);
    };
  },
};
