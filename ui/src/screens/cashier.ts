// Cashier: the last scan at this till as a large card (holder, template, status, balance, a
// stamp-card grid, rewards) with one-tap actions. Every action is one user intent with one
// Idempotency-Key, generated when the intent starts and reused if it has to be sent again, so a
// double click or a retry after a dropped connection changes the ledger once.

import { ApiError, OfflineError, uuid } from '../api/client';
import type { Decision, LoyaltyView, OpDoc, PassDoc, PassResource, Reward, Tier } from '../api/types';
import type { Screen } from '../app';
import { clear, h } from '../dom';
import { decisionMessage, holder, localTime, money, parseMoney, WARNING_WORDS } from '../format';
import { decisionConflict, type ConflictNote } from '../sync-words';
import { outcomeOf } from './gate';

interface Intent {
  key: string;
  inflight: boolean;
  /** Set when the last attempt got no answer: the next tap retries with the same key. */
  unsent: boolean;
  finishedAt: number;
}

/** After an intent finishes, taps on the same action for this long are the tail of a double
 * click, not a new intent. */
const COOLDOWN_MS = 800;

export const cashier: Screen = {
  title: 'Cashier',
  role: 'cashier',
  showsDecisions: true,
  mount(root, app) {
    const card = h('section.cashier-card', { 'data-testid': 'cashier-card' });
    const confirmBox = h('div.confirm', { hidden: true, 'data-testid': 'confirm' });
    root.append(h('div.cashier', card, confirmBox));

    let decision: Decision | null = null;
    let pass: PassResource | null = null;
    let loyalty: LoyaltyView | null = null;
    const intents = new Map<string, Intent>();
    let amountText = '';
    /** The last earn or stamp done at this till, which Undo reverses (a redemption is final:
     * it asks first instead). Kept per pass: the next customer's card hides it. */
    let undoable: { passId: string; entryId: string; label: string } | null = null;

    const render = () => {
      if (!decision) {
        clear(card, h('div.empty', h('h1', 'Scan a customer’s card'), h('p', `Till: ${app.reader()}`)));
        return;
      }
      const d = decision;
      const outcome = outcomeOf(d);
      // TODO(merge): `conflict` is in the generated Decision once the schema is regenerated.
      const conflict = decisionConflict(d as Decision & { conflict?: ConflictNote | null });
      const status = pass?.attributes.status ?? d.pass?.status ?? '';
      const amount = h('input#amount', {
        type: 'text',
        inputmode: 'decimal',
        placeholder: '0.00',
        'aria-label': 'Amount paid',
        'data-testid': 'amount-input',
        'data-numeric': '',
        value: amountText,
        oninput: (e: Event) => (amountText = (e.target as HTMLInputElement).value),
        onkeydown: (e: KeyboardEvent) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            earn();
          }
        },
      });
      const l = loyalty;
      clear(
        card,
        h(
          'div',
          { class: `banner outcome-${outcome}`, 'data-testid': 'cashier-banner', 'data-outcome': outcome },
          h('b', outcome === 'reject' ? 'Refused' : outcome === 'warning' ? 'Check' : 'OK'),
          ' ',
          decisionMessage(d),
          d.warnings.length ? ` · ${d.warnings.map((w) => WARNING_WORDS[w] ?? w).join(' · ')}` : '',
        ),
        // A conflict the hub found about this pass (a reward redeemed at two tills…).
        conflict ? h('div.conflict', { 'data-testid': 'cashier-conflict' }, conflict) : null,
        // Who and what they have on the left; what the cashier can do on the right, high on
        // the screen (one column on a narrow one).
        h(
          'div.cashier-body',
          h(
            'div.cashier-who',
            h(
              'div.holder',
              h('h1', { 'data-testid': 'holder' }, holder(d) || 'Unknown pass'),
              h('div.sub', [d.pass?.templateName ?? d.pass?.templateId, status].filter(Boolean).join(' · ')),
            ),
            l
              ? h(
                  'div.loyalty',
                  h(
                    'div.balance',
                    h('span.num', { 'data-testid': 'balance' }, String(l.balance)),
                    h('span', 'points'),
                    l.reservedPoints ? h('span.small', `${l.reservedPoints} reserved`) : null,
                  ),
                  l.cardSize ? stampGrid(l) : null,
                )
              : d.pass
                ? h('p.sub', 'No loyalty program on this pass.')
                : null,
          ),
          l
            ? h(
                'div.cashier-do',
                d.passId && status !== 'voided'
                  ? h(
                      'div.actions',
                      h('div.earn', h('label', { for: 'amount' }, 'Amount'), amount, actionButton('earn', 'Add points', earn)),
                      l.cardSize ? actionButton('stamp', '+1 stamp', stamp) : null,
                      undoable && undoable.passId === d.passId
                        ? actionButton(`undo:${undoable.entryId}`, `Undo ${undoable.label}`, () => void undo(), {
                            'data-testid': 'undo',
                            ...(app.can('manager') ? {} : { title: 'A manager signs in to undo' }),
                          })
                        : null,
                    )
                  : null,
                rewardsPanel(l),
              )
            : null,
        ),
        h('div.when', `Scanned ${localTime(d.at)} at ${d.readerId}`),
      );
    };

    const stampGrid = (l: LoyaltyView) => {
      const size = l.cardSize ?? 0;
      const on = l.stampsOnCard ?? 0;
      const cells = Array.from({ length: size }, (_, i) =>
        h('span', { class: i < on ? 'stamp stamp-on' : 'stamp' }, i < on ? '★' : String(i + 1)),
      );
      return h(
        'div.stamps',
        { 'data-testid': 'stamps', 'data-stamps': String(on) },
        h('div.grid', ...cells),
        h('span', `${on} of ${size} stamps`),
      );
    };

    const rewardsPanel = (l: LoyaltyView) => {
      const items: HTMLElement[] = [];
      for (const r of l.rewards) {
        items.push(
          h('li', h('span', `${r.tierName} (ready)`), actionButton(`reward:${r.id}`, 'Redeem', () => askRedeem({ reward: r }))),
        );
      }
      for (const t of l.claimable) {
        items.push(
          h(
            'li',
            h('span', `${t.name} · ${t.threshold} ${t.unit}`),
            actionButton(`tier:${t.name}`, 'Redeem', () => askRedeem({ tier: t }), { 'data-tier': t.name }),
          ),
        );
      }
      return h(
        'div.rewards',
        h('h2', 'Rewards'),
        items.length ? h('ul', ...items) : h('p.sub', 'Nothing to redeem yet.'),
      );
    };

    function actionButton(action: string, label: string, run: () => void, extra: Record<string, string> = {}) {
      const i = intents.get(`${decision?.passId}:${action}`);
      return h(
        'button.btn.btn-big',
        {
          type: 'button',
          'data-action': action,
          ...extra,
          disabled: i?.inflight ?? false,
          onclick: (e: MouseEvent) => {
            if (e.detail > 1) return; // the second click of a double click
            run();
          },
        },
        i?.unsent ? `${label} (retry)` : label,
      );
    }

    /** Runs `send` as the intent `id`: once at a time, same key on retry, none in the cooldown. */
    async function perform(id: string, send: (key: string) => Promise<OpDoc>, done: string): Promise<OpDoc | null> {
      const full = `${decision?.passId}:${id}`;
      let intent = intents.get(full);
      if (intent?.inflight) return null;
      if (intent && !intent.unsent && Date.now() - intent.finishedAt < COOLDOWN_MS) return null;
      if (!intent || !intent.unsent) {
        intent = { key: uuid(), inflight: false, unsent: false, finishedAt: 0 };
        intents.set(full, intent);
      }
      intent.inflight = true;
      render();
      try {
        const res = await send(intent.key);
        intent.unsent = false;
        app.toast(res.meta.replayed ? `${done} (already done)` : done, 'ok');
        await refresh();
        return res;
      } catch (e) {
        if (e instanceof OfflineError) {
          intent.unsent = true;
          app.toast('No answer from the counter: tap again to retry (it will not count twice)', 'error');
        } else if (e instanceof ApiError) {
          intent.unsent = false;
          app.toast(e.message, 'error');
        } else throw e;
        return null;
      } finally {
        intent.inflight = false;
        intent.finishedAt = Date.now();
        render();
        app.focusScan();
      }
    }

    const passPath = () => `/api/v1/passes/${encodeURIComponent(decision!.passId!)}`;

    function earn(): void {
      if (!decision?.passId) return;
      const minor = parseMoney(amountText);
      if (minor === null || minor <= 0) {
        app.toast('Type the amount paid first (e.g. 12.50)', 'error');
        return;
      }
      void perform(`earn:${minor}`, (key) =>
        app.api<OpDoc>('POST', `${passPath()}/loyalty/earn`, { body: { amountMinor: minor }, idempotencyKey: key }),
        `Points added for ${money(minor)}`,
      ).then((res) => {
        if (res) {
          amountText = '';
          remember(res, `+${points(res)} points`);
        }
        render();
      });
    }

    const points = (res: OpDoc) => res.data.attributes.entries.reduce((n, e) => n + e.points, 0);

    /** The operation's earn or stamp entry becomes what Undo reverses. */
    function remember(res: OpDoc, label: string): void {
      const e = res.data.attributes.entries.find((x) => x.kind === 'earn' || x.kind === 'stamp');
      undoable = e ? { passId: e.passId, entryId: e.id, label } : null;
    }

    async function undo(): Promise<void> {
      const u = undoable;
      if (!u) return;
      // A reversal is a manager's: at a till, one signs in for it (and for 10 minutes after).
      if (!app.can('manager') && !(await app.signIn('manager', `Undo ${u.label}: a reversal needs a manager.`))) return;
      if (undoable !== u) return;
      // Its own intent and Idempotency-Key: a double tap, or a retry after a lost answer,
      // reverses the entry once.
      void perform(
        `undo:${u.entryId}`,
        (key) =>
          app.api<OpDoc>('POST', `/api/v1/loyalty/entries/${encodeURIComponent(u.entryId)}/reverse`, {
            body: { reason: `undone at till ${app.reader()}` },
            idempotencyKey: key,
            as: 'manager',
          }),
        `Undone: ${u.label}`,
      ).then((res) => {
        if (res && undoable === u) undoable = null;
        render();
      });
    }

    function stamp(): void {
      if (!decision?.passId) return;
      void perform('stamp', (key) =>
        app.api<OpDoc>('POST', `${passPath()}/loyalty/stamps`, { body: { count: 1 }, idempotencyKey: key }),
        'Stamp added',
      ).then((res) => {
        if (res) remember(res, '+1 stamp');
        render();
      });
    }

    function askRedeem(what: { tier?: Tier; reward?: Reward }): void {
      const name = what.tier?.name ?? what.reward?.tierName ?? '';
      const id = what.tier ? `tier:${name}` : `reward:${what.reward!.id}`;
      const yes = h(
        'button.btn.btn-primary.btn-big',
        {
          type: 'button',
          'data-testid': 'confirm-yes',
          onclick: (e: MouseEvent) => {
            if (e.detail > 1) return;
            yes.disabled = true;
            void perform(
              id,
              (key) =>
                what.tier
                  ? app.api<OpDoc>('POST', `${passPath()}/loyalty/redeem`, { body: { tier: name }, idempotencyKey: key })
                  : app.api<OpDoc>('POST', `${passPath()}/loyalty/rewards/${encodeURIComponent(what.reward!.id)}/redeem`, {
                      idempotencyKey: key,
                    }),
              `Redeemed: ${name}`,
            ).then((res) => {
              if (res) {
                // A redemption is final here; what Undo would reverse now is older than it.
                undoable = null;
                closeConfirm();
                render();
              } else yes.disabled = false;
            });
          },
        },
        'Yes, redeem',
      );
      clear(
        confirmBox,
        h(
          'div.confirm-box',
          { role: 'alertdialog', 'aria-label': 'Confirm redemption' },
          h('p', `Redeem “${name}” for ${holder(decision!) || 'this pass'}?`),
          h('div.row', yes, h('button.btn.btn-big', { type: 'button', onclick: closeConfirm }, 'Cancel')),
        ),
      );
      confirmBox.hidden = false;
      yes.focus();
    }

    function closeConfirm(): void {
      confirmBox.hidden = true;
      confirmBox.replaceChildren();
      app.focusScan();
    }

    async function refresh(): Promise<void> {
      if (!decision?.passId) return;
      try {
        const doc = await app.api<PassDoc>('GET', passPath());
        pass = doc.data;
        loyalty = doc.meta?.loyalty ?? null;
      } catch {
        // keep what we have; the badge says offline
      }
      render();
    }

    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !confirmBox.hidden) closeConfirm();
    };
    document.addEventListener('keydown', onKey);

    const take = (d: Decision) => {
      decision = d;
      pass = null;
      loyalty = d.loyalty ?? null;
      amountText = '';
      closeConfirm();
      render();
      void refresh();
    };
    const last = app.recent.find((d) => d.readerId === app.reader());
    if (last) take(last);
    else render();
    const off = app.onDecision((d) => {
      if (d.readerId === app.reader()) take(d);
    });
    return () => {
      off();
      document.removeEventListener('keydown', onKey);
    };
  },
};
