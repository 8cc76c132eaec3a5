// Webhooks: where the counter sends its pass events, for a manager. Each endpoint shows its
// health at a glance (a colour and words: delivering, failing since when, turned off and why),
// its backlog and last success. Add one with a form checked before it is sent (the service's
// refusals shown at their field); edit it, turn it off or on, send a test (its outcome shown as
// the delivery goes), give it a new secret, delete it; its delivery log with the failed ones
// marked and a Retry. A secret is shown once, where it was made, with a Copy button.
//
// Steps that cannot be undone ask in place, in the card: the browser's confirm() is modal and
// would swallow a scanner's keys, and a toast may not hold a button. Lists refresh themselves
// in place (keyed by id), so a refresh never takes the focus or an open form away.

import { ApiError, OfflineError } from '../api/client';
import type {
  WebhookDeliveryDetailDoc,
  WebhookDeliveryDoc,
  WebhookDeliveryPage,
  WebhookDeliveryResource,
  WebhookSubscriptionAttributes,
  WebhookSubscriptionDoc,
  WebhookEventName,
  WebhookFormat,
  WebhookSubscriptionPage,
  WebhookSubscriptionPatch,
  WebhookSubscriptionResource,
} from '../api/types';
import type { Screen } from '../app';
import { clear, h } from '../dom';
import { localDateTime, localTime } from '../format';
import {
  attemptWords,
  backlogWords,
  deliveryMark,
  deliveryWords,
  eventName,
  EVENTS,
  eventsWords,
  fieldOf,
  FORMAT_WORDS,
  FORMATS,
  formatName,
  health,
  healthWords,
  lastSuccessWords,
  shortUrl,
  testWords,
  urlProblem,
} from '../webhook-words';

const SUBSCRIPTIONS = '/api/v1/webhook-subscriptions';
const DELIVERIES = '/api/v1/webhook-deliveries';
/** How often the endpoints' health, an open delivery log and a test under way are asked again. */
const LIST_EVERY_MS = 5000;
const LOG_EVERY_MS = 3000;
const TEST_EVERY_MS = 1000;
const SUBS_PER_PAGE = 50;
const LOG_PER_PAGE = 25;

type Sub = WebhookSubscriptionResource;
type Attrs = WebhookSubscriptionAttributes;
type Delivery = WebhookDeliveryResource;
/** What the form sends (`webhookSubscription`); a change sends only what changed. */
type Fields = WebhookSubscriptionPatch;

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

// ---- the form (add, and edit in a card) ---------------------------------------------------

interface FormOptions {
  /** Unique per form on the page: the fields' ids. */
  prefix: string;
  initial?: Attrs;
  submitLabel: string;
  /** The add form offers "on from now"; an edit turns on and off with its own button. */
  withEnabled: boolean;
  /** Sends; throws what the service answered. */
  send: (fields: Fields) => Promise<void>;
  cancel?: () => void;
}

interface Form {
  el: HTMLFormElement;
  focus(): void;
  reset(): void;
}

function subscriptionForm(o: FormOptions): Form {
  const id = (name: string) => `${o.prefix}-${name}`;
  const errorOf = (name: string) => h('p.field-error', { id: id(`${name}-error`), 'data-testid': id(`${name}-error`) });
  const url = h('input', {
    id: id('url'),
    type: 'url',
    inputmode: 'url',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'https://pos.example/passdesk-hooks',
    value: o.initial?.url ?? '',
    'aria-describedby': id('url-error'),
    'data-testid': id('url'),
  });
  const format = h(
    'select',
    { id: id('format'), 'aria-describedby': id('format-about'), 'data-testid': id('format') },
    ...FORMATS.map((f) => h('option', { value: f }, FORMAT_WORDS[f].name)),
  );
  format.value = o.initial?.format ?? 'passentry';
  const about = h('p.small', { id: id('format-about') });
  const showAbout = () => (about.textContent = FORMAT_WORDS[format.value as keyof typeof FORMAT_WORDS]?.about ?? '');
  format.addEventListener('change', showAbout);
  showAbout();
  const ticks = EVENTS.map((e) =>
    h('input', { type: 'checkbox', id: id(`ev-${e}`), value: e, checked: o.initial?.subscribedEvents.includes(e) ?? false }),
  );
  const enabled = h('input', { type: 'checkbox', id: id('enabled'), checked: true, 'data-testid': id('enabled') });
  const errors: Record<string, HTMLElement> = { url: errorOf('url'), format: errorOf('format'), subscribedEvents: errorOf('events') };
  const general = h('p.field-error', { role: 'alert', 'data-testid': id('error') });
  const submit = h('button.btn.btn-primary', { type: 'submit', 'data-testid': id('submit') }, o.submitLabel);

  const clearErrors = () => {
    for (const el of [...Object.values(errors), general]) el.textContent = '';
    url.removeAttribute('aria-invalid');
  };
  const fieldError = (field: string | null, text: string) => {
    const el = (field && errors[field]) || general;
    el.textContent = text;
    if (field === 'url') {
      url.setAttribute('aria-invalid', 'true');
      url.focus();
    }
  };
  const current = (): Fields => ({
    url: url.value.trim(),
    // (the choices are the service's names: webhook-words.ts lists them)
    format: format.value as WebhookFormat,
    subscribedEvents: ticks.filter((t) => t.checked).map((t) => t.value as WebhookEventName),
    ...(o.withEnabled ? { enabled: enabled.checked } : {}),
  });
  /** For an edit: only what differs from what it was. */
  const changed = (f: Fields): Fields => {
    const i = o.initial;
    if (!i) return f;
    const out: Fields = {};
    if (f.url !== i.url) out.url = f.url;
    if (f.format !== i.format) out.format = f.format;
    if (!sameSet(f.subscribedEvents ?? [], i.subscribedEvents)) out.subscribedEvents = f.subscribedEvents;
    return out;
  };

  const el = h(
    'form.wh-form',
    {
      novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (submit.disabled) return;
        clearErrors();
        const problem = urlProblem(url.value);
        if (problem) return fieldError('url', problem);
        submit.disabled = true;
        try {
          await o.send(changed(current()));
        } catch (err) {
          if (err instanceof ApiError) fieldError(err.status === 422 ? fieldOf(err.pointer) : null, err.message);
          else if (err instanceof OfflineError) fieldError(null, 'The counter service did not answer: look at the list before sending this again.');
          else throw err;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('label', { for: id('url') }, 'Address (URL)'),
    url,
    errors.url,
    h('label', { for: id('format') }, 'Format'),
    format,
    about,
    errors.format,
    h(
      'fieldset.wh-events',
      { 'aria-describedby': id('events-error') },
      h('legend', 'Events'),
      ...EVENTS.map((e, i) => h('label.check', { for: id(`ev-${e}`) }, ticks[i], eventName(e))),
      h('p.small', 'None ticked: every event.'),
    ),
    errors.subscribedEvents,
    o.withEnabled ? h('label.check', { for: id('enabled') }, enabled, 'On: send events from now on') : null,
    general,
    h(
      'div.row',
      submit,
      o.cancel ? h('button.btn', { type: 'button', 'data-testid': id('cancel'), onclick: o.cancel }, 'Cancel') : null,
    ),
  );
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && o.cancel) {
      e.stopPropagation();
      o.cancel();
    }
  });
  return {
    el,
    focus: () => url.focus(),
    reset: () => {
      url.value = '';
      format.value = 'passentry';
      showAbout();
      for (const t of ticks) t.checked = false;
      enabled.checked = true;
      clearErrors();
    },
  };
}

// ---- a secret, shown once -------------------------------------------------------------------

/** Copies `text`: the Clipboard API where the page may use it (a secure context: the counter's
 * own window), else the selected text with the older copy command (a tablet on plain http). */
async function copyText(text: string, shown: HTMLElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(shown);
    const sel = getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    return document.execCommand('copy');
  }
}

function secretBox(secret: string, why: string, done: () => void): HTMLElement {
  const value = h('code.wh-secret-value', { 'data-testid': 'wh-secret-value' }, secret);
  const said = h('span.small', { role: 'status' });
  const box = h(
    'div.wh-secret',
    { 'data-testid': 'wh-secret' },
    h('h3', `${why}: shown only now`),
    h('p', 'Put it into the receiver now: the counter never shows it again. It signs every delivery.'),
    value,
    h(
      'div.row',
      h(
        'button.btn.btn-primary',
        {
          type: 'button',
          'data-action': 'copy-secret',
          onclick: async () => {
            said.textContent = (await copyText(secret, value)) ? 'Copied' : 'Select it and copy it by hand';
          },
        },
        'Copy',
      ),
      h('button.btn', { type: 'button', 'data-action': 'secret-done', onclick: done }, 'I have stored it'),
      said,
    ),
  );
  return box;
}

// ---- the screen -----------------------------------------------------------------------------

/** `load` one at a time. Asked while it runs: once more after it, unless the ask is only a
 * periodic look (`idle`), which a slow service then answers at its own pace. `load` says
 * `'again'` when what it fetched was overtaken by a change made meanwhile. */
function oneAtATime(load: () => Promise<'again' | void>): (idle?: 'idle') => Promise<void> {
  let running = false;
  let again = false;
  return async (idle) => {
    if (running) {
      if (!idle) again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        if ((await load()) === 'again') again = true;
      } while (again);
    } finally {
      running = false;
    }
  };
}

interface Card {
  el: HTMLElement;
  sub(): Sub;
  update(s: Sub): void;
  showSecret(secret: string, why: string): void;
  testSaid(text: string, mark: string): void;
}

export const webhooks: Screen = {
  title: 'Webhooks',
  role: 'manager',
  mount(root, app) {
    let unmounted = false;
    const list = h('ul.wh-list', { 'data-testid': 'wh-list' });
    const listNote = h('p.sub', { 'data-testid': 'wh-list-note' });
    const pager = h('div.row.wh-pager');
    const log = h('section.wh-log', { 'data-testid': 'wh-log', hidden: true });
    const cards = new Map<string, Card>();
    let subsPage = 1;
    /** Bumped by every change made here: a list asked for before it is older than what the page
     * shows (it could lack a webhook just added, and its secret with it), and is dropped. */
    let listSeq = 0;

    const fail = (e: unknown, what: string) => {
      if (e instanceof OfflineError) app.toast(`${what}: the counter service does not answer`, 'error');
      else if (e instanceof ApiError) app.toast(`${what}: ${e.message}`, 'error');
      else throw e;
    };

    const add = subscriptionForm({
      prefix: 'wh-add',
      submitLabel: 'Add webhook',
      withEnabled: true,
      send: async (fields) => {
        const doc = await app.api<WebhookSubscriptionDoc>('POST', SUBSCRIPTIONS, { body: { webhookSubscription: fields } });
        add.reset();
        const card = upsert(doc.data);
        if (doc.data.attributes.secretKey) card.showSecret(doc.data.attributes.secretKey, 'Its signing secret');
        app.toast(`Webhook added: ${shortUrl(doc.data.attributes.url)}`, 'ok');
        void loadList();
      },
    });

    root.append(
      h(
        'div.webhooks',
        h('div.col', h('section.wh-add', h('h2', 'Add a webhook'), add.el)),
        h('div.col', h('section.wh-subs', h('h2', 'Webhooks'), listNote, list, pager), log),
      ),
    );

    // ---- the endpoints ----

    function upsert(s: Sub): Card {
      listSeq++;
      let card = cards.get(s.id);
      if (card) card.update(s);
      else {
        card = makeCard(s);
        cards.set(s.id, card);
        list.append(card.el);
        listNote.textContent = '';
      }
      return card;
    }

    const loadList = oneAtATime(async () => {
      const seq = listSeq;
      let page: WebhookSubscriptionPage;
      try {
        page = await app.api<WebhookSubscriptionPage>('GET', `${SUBSCRIPTIONS}?page=${subsPage}&perPage=${SUBS_PER_PAGE}`);
      } catch (e) {
        if (!loadedOnce) fail(e, 'Webhooks not loaded');
        return;
      }
      if (unmounted) return;
      if (seq !== listSeq) return 'again';
      loadedOnce = true;
      const ids = new Set(page.data.map((s) => s.id));
      for (const [id, card] of cards) {
        if (!ids.has(id)) {
          card.el.remove();
          cards.delete(id);
        }
      }
      // In the service's order (oldest first); a card already in place is not moved (a move
      // would take the focus from a button in it).
      let at: Element | null = list.firstElementChild;
      for (const s of page.data) {
        const card = cards.get(s.id) ?? makeCard(s);
        cards.set(s.id, card);
        card.update(s);
        if (card.el === at) at = at.nextElementSibling;
        else list.insertBefore(card.el, at);
      }
      const m = page.meta;
      listNote.textContent = m.totalCount
        ? ''
        : 'No webhooks yet: add one to send every pass event to a till system, a CRM or a wallet platform.';
      clear(
        pager,
        ...(m.totalPages > 1
          ? [
              h('button.btn', { type: 'button', disabled: subsPage <= 1, onclick: () => ((subsPage -= 1), listSeq++, void loadList()) }, 'Previous'),
              h('span.small', `Page ${m.currentPage} of ${m.totalPages} (${m.totalCount} webhooks)`),
              h('button.btn', { type: 'button', disabled: subsPage >= m.totalPages, onclick: () => ((subsPage += 1), listSeq++, void loadList()) }, 'Next'),
            ]
          : []),
      );
    });
    let loadedOnce = false;

    function makeCard(first: Sub): Card {
      let s = first;
      const badge = h('span.wh-health', { 'data-testid': 'wh-health' });
      const address = h('span.wh-url', { 'data-testid': 'wh-url' });
      const what = h('div.small', { 'data-testid': 'wh-what' });
      const facts = h('ul.wh-facts', { 'data-testid': 'wh-facts' });
      const testLine = h('p.wh-test', { 'data-testid': 'wh-test', 'aria-live': 'polite', hidden: true });
      const toggle = h('button.btn', { type: 'button', 'data-action': 'toggle', onclick: () => void setEnabled(!s.attributes.enabled) });
      const actions = h(
        'div.rowactions',
        h('button.btn', { type: 'button', 'data-action': 'edit', onclick: () => edit() }, 'Edit'),
        toggle,
        h('button.btn', { type: 'button', 'data-action': 'test', onclick: () => void sendTest() }, 'Send test'),
        h('button.btn', { type: 'button', 'data-action': 'log', onclick: () => openLog(s) }, 'Deliveries'),
        h(
          'button.btn',
          {
            type: 'button',
            'data-action': 'rotate',
            onclick: () =>
              ask(
                'Make a new secret? The old secret stops at once: the receiver must have the new one, or it refuses what follows.',
                'New secret',
                rotate,
              ),
          },
          'New secret',
        ),
        h(
          'button.btn.btn-danger',
          {
            type: 'button',
            'data-action': 'delete',
            onclick: () => ask('Delete this webhook? What is waiting is not sent, and its delivery log goes too.', 'Delete', remove),
          },
          'Delete',
        ),
      );
      /** What opens below the actions: an edit form or a question; the secret stays apart. */
      const below = h('div.wh-below');
      const secretSlot = h('div');
      const el = h(
        'li.wh-card',
        { 'data-sub': s.id, 'data-testid': 'wh-card' },
        h('div.wh-head', badge, address),
        what,
        facts,
        testLine,
        secretSlot,
        actions,
        below,
      );

      const update = (next: Sub) => {
        s = next;
        const a = s.attributes;
        const hl = health(a);
        el.dataset.health = hl;
        el.dataset.enabled = String(a.enabled);
        badge.className = `wh-health health-${hl}`;
        badge.textContent = healthWords(a);
        address.textContent = shortUrl(a.url);
        address.title = a.url;
        what.textContent = `${formatName(a.format)} · ${eventsWords(a.subscribedEvents)}`;
        clear(
          facts,
          h('li', { 'data-fact': 'backlog' }, backlogWords(a)),
          h('li', { 'data-fact': 'last-success' }, lastSuccessWords(a.lastSuccessAt)),
          // (an endpoint on and failing says so in its badge already)
          !a.enabled && a.failingSince ? h('li', { 'data-fact': 'failing-since' }, `Failing since ${localTime(a.failingSince)}`) : null,
          a.lastError && hl !== 'ok' ? h('li.wh-error', { 'data-fact': 'last-error' }, `Last error: ${a.lastError}`) : null,
        );
        toggle.textContent = a.enabled ? 'Turn off' : 'Turn on';
        toggle.title = a.enabled ? 'Stop sending; events are kept and sent when it is turned on again' : 'Send again, what waited first';
        if (log.dataset.sub === s.id) logTitle.textContent = `To ${shortUrl(a.url)}`;
      };

      /** What the service answered a change made here: shown, and newer than any list asked for
       * before it. */
      const applied = (next: Sub) => {
        listSeq++;
        update(next);
      };

      const busy = (on: boolean) => {
        for (const b of actions.querySelectorAll('button')) b.disabled = on;
      };

      /** A question in place of the actions: Escape or Cancel keep everything as it was. */
      function ask(question: string, yes: string, then: () => Promise<void>): void {
        const close = () => {
          clear(below);
          actions.hidden = false;
          actions.querySelector<HTMLButtonElement>('button')?.focus();
        };
        const no = h('button.btn', { type: 'button', 'data-action': 'confirm-no', onclick: close }, 'Cancel');
        clear(
          below,
          h(
            'div.wh-confirm',
            {
              role: 'group',
              'data-testid': 'wh-confirm',
              onkeydown: (e: KeyboardEvent) => {
                if (e.key === 'Escape') {
                  e.stopPropagation();
                  close();
                }
              },
            },
            h('p', question),
            h(
              'div.row',
              h(
                'button.btn.btn-danger',
                {
                  type: 'button',
                  'data-action': 'confirm-yes',
                  onclick: async (e: Event) => {
                    (e.currentTarget as HTMLButtonElement).disabled = true;
                    clear(below);
                    actions.hidden = false;
                    await then();
                  },
                },
                yes,
              ),
              no,
            ),
          ),
        );
        actions.hidden = true;
        no.focus();
      }

      function edit(): void {
        const close = () => {
          clear(below);
          actions.hidden = false;
          actions.querySelector<HTMLButtonElement>('[data-action="edit"]')?.focus();
        };
        const form = subscriptionForm({
          prefix: `wh-edit-${s.id}`,
          initial: s.attributes,
          submitLabel: 'Save',
          withEnabled: false,
          cancel: close,
          send: async (fields) => {
            if (Object.keys(fields).length) {
              const doc = await app.api<WebhookSubscriptionDoc>('PATCH', `${SUBSCRIPTIONS}/${encodeURIComponent(s.id)}`, {
                body: { webhookSubscription: fields },
              });
              applied(doc.data);
              app.toast(`Saved: ${shortUrl(doc.data.attributes.url)}`, 'ok');
            }
            close();
          },
        });
        clear(below, form.el);
        actions.hidden = true;
        form.focus();
      }

      async function setEnabled(on: boolean): Promise<void> {
        busy(true);
        try {
          const doc = await app.api<WebhookSubscriptionDoc>('PATCH', `${SUBSCRIPTIONS}/${encodeURIComponent(s.id)}`, {
            body: { webhookSubscription: { enabled: on } },
          });
          applied(doc.data);
          const a = doc.data.attributes;
          app.toast(
            on
              ? `Turned on: ${shortUrl(a.url)}${a.backlog ? `; its ${a.backlog} waiting are sent now` : ''}`
              : `Turned off: ${shortUrl(a.url)}; its events wait until it is turned on again`,
            'ok',
          );
        } catch (e) {
          fail(e, on ? 'Not turned on' : 'Not turned off');
        } finally {
          busy(false);
        }
      }

      async function sendTest(): Promise<void> {
        busy(true);
        try {
          const doc = await app.api<WebhookDeliveryDoc>('POST', `${SUBSCRIPTIONS}/${encodeURIComponent(s.id)}/test`);
          watchTest(s.id, doc.data);
          if (log.dataset.sub === s.id) void loadLog();
        } catch (e) {
          fail(e, 'Test not sent');
        } finally {
          busy(false);
        }
      }

      async function rotate(): Promise<void> {
        busy(true);
        try {
          const doc = await app.api<WebhookSubscriptionDoc>('PATCH', `${SUBSCRIPTIONS}/${encodeURIComponent(s.id)}/rotate-secret`);
          applied(doc.data);
          if (doc.data.attributes.secretKey) showSecret(doc.data.attributes.secretKey, 'The new signing secret');
        } catch (e) {
          fail(e, 'No new secret');
        } finally {
          busy(false);
        }
      }

      async function remove(): Promise<void> {
        busy(true);
        try {
          await app.api<void>('DELETE', `${SUBSCRIPTIONS}/${encodeURIComponent(s.id)}`);
          listSeq++;
          el.remove();
          cards.delete(s.id);
          for (const [id, t] of tests) if (t.subId === s.id) tests.delete(id);
          if (log.dataset.sub === s.id) closeLog();
          app.toast(`Deleted: ${shortUrl(s.attributes.url)}`, 'ok');
          void loadList();
        } catch (e) {
          busy(false);
          fail(e, 'Not deleted');
        }
      }

      function showSecret(secret: string, why: string): void {
        clear(
          secretSlot,
          secretBox(secret, why, () => {
            clear(secretSlot);
            actions.querySelector<HTMLButtonElement>('button')?.focus();
          }),
        );
        secretSlot.scrollIntoView({ block: 'nearest' });
        secretSlot.querySelector<HTMLButtonElement>('[data-action="copy-secret"]')?.focus();
      }

      update(s);
      return {
        el,
        sub: () => s,
        update,
        showSecret,
        testSaid: (text, mark) => {
          testLine.hidden = false;
          testLine.textContent = text;
          testLine.dataset.mark = mark;
        },
      };
    }

    // ---- tests under way: their outcome in the card, as the delivery goes ----

    /** Test deliveries under way: their id, and whose card shows them. */
    const tests = new Map<string, { subId: string }>();

    function watchTest(subId: string, d: Delivery): void {
      // One test per card is shown: a newer one replaces the older in the card.
      for (const [id, t] of tests) if (t.subId === subId) tests.delete(id);
      tests.set(d.id, { subId });
      showTest(subId, d);
    }

    function showTest(subId: string, d: Delivery): void {
      cards.get(subId)?.testSaid(testWords(d.attributes), deliveryMark(d.attributes));
    }

    let testing = false;
    async function pollTests(): Promise<void> {
      if (testing || !tests.size) return;
      testing = true;
      try {
        for (const [id, t] of [...tests]) {
          let doc: WebhookDeliveryDoc;
          try {
            doc = await app.api<WebhookDeliveryDoc>('GET', `${DELIVERIES}/${encodeURIComponent(id)}`);
          } catch (e) {
            // Gone (its webhook deleted elsewhere): nothing more to show. Otherwise asked again
            // at the next tick; the badge shows a counter that does not answer.
            if (e instanceof ApiError && e.status === 404) tests.delete(id);
            continue;
          }
          if (unmounted || !tests.has(id)) continue;
          showTest(t.subId, doc.data);
          if (doc.data.attributes.state !== 'pending') {
            tests.delete(id);
            void loadList();
            if (log.dataset.sub === t.subId) void loadLog();
          }
        }
      } finally {
        testing = false;
      }
    }

    // ---- the delivery log of one endpoint ----

    const logTitle = h('p.wh-url', { 'data-testid': 'wh-log-url' });
    const failedOnly = h('input#wh-failed-only', { type: 'checkbox', 'data-testid': 'wh-failed-only' });
    const logBody = h('tbody');
    const logNote = h('p.sub', { 'data-testid': 'wh-log-note' });
    const logPager = h('div.row.wh-pager');
    let logPage = 1;
    /** As `listSeq`, for the log: a retry made here is newer than a page asked for before it. */
    let logSeq = 0;
    const rows = new Map<string, { tr: HTMLTableRowElement; details: HTMLTableRowElement; update(d: Delivery): void }>();
    failedOnly.addEventListener('change', () => {
      logPage = 1;
      logSeq++;
      void loadLog();
    });
    clear(
      log,
      h('div.wh-log-head', h('h2', 'Deliveries'), h('button.btn', { type: 'button', 'data-action': 'close-log', onclick: () => closeLog() }, 'Close')),
      logTitle,
      h('label.check', { for: 'wh-failed-only' }, failedOnly, 'Failed only'),
      logNote,
      h(
        'div.wh-log-table',
        h(
          'table.table.wh-deliveries',
          h('thead', h('tr', h('th', 'Time'), h('th', 'Event'), h('th', 'Outcome'), h('th', ''))),
          logBody,
        ),
      ),
      logPager,
    );

    function openLog(s: Sub): void {
      if (log.dataset.sub !== s.id) {
        logBody.replaceChildren();
        rows.clear();
        logPage = 1;
        failedOnly.checked = false;
      }
      log.dataset.sub = s.id;
      logTitle.textContent = `To ${shortUrl(s.attributes.url)}`;
      log.hidden = false;
      void loadLog().then(() => log.scrollIntoView({ block: 'nearest' }));
    }

    function closeLog(): void {
      const id = log.dataset.sub;
      log.hidden = true;
      delete log.dataset.sub;
      logBody.replaceChildren();
      rows.clear();
      if (id) cards.get(id)?.el.querySelector<HTMLButtonElement>('[data-action="log"]')?.focus();
    }

    const loadLog = oneAtATime(async () => {
      const subId = log.dataset.sub;
      if (!subId) return;
      const seq = logSeq;
      let page: WebhookDeliveryPage;
      try {
        const q = `subscriptionId=${encodeURIComponent(subId)}${failedOnly.checked ? '&state=failed' : ''}&page=${logPage}&perPage=${LOG_PER_PAGE}`;
        page = await app.api<WebhookDeliveryPage>('GET', `${DELIVERIES}?${q}`);
      } catch (e) {
        if (!rows.size) fail(e, 'Deliveries not loaded');
        return;
      }
      if (unmounted || log.dataset.sub !== subId) return;
      if (seq !== logSeq) return 'again';
      showLog(page);
    });

    function showLog(page: WebhookDeliveryPage): void {
      const ids = new Set(page.data.map((d) => d.id));
      for (const [id, r] of rows) {
        if (!ids.has(id)) {
          r.tr.remove();
          r.details.remove();
          rows.delete(id);
        }
      }
      // Newest first, as the service lists them; rows in place stay (and keep the focus).
      let at: Element | null = logBody.firstElementChild;
      for (const d of page.data) {
        let r = rows.get(d.id);
        if (!r) rows.set(d.id, (r = makeRow(d)));
        r.update(d);
        if (r.tr === at) at = r.details.nextElementSibling;
        else {
          logBody.insertBefore(r.tr, at);
          logBody.insertBefore(r.details, at);
        }
      }
      const m = page.meta;
      logNote.textContent = m.totalCount
        ? `${m.totalCount} ${failedOnly.checked ? 'failed ' : ''}deliver${m.totalCount === 1 ? 'y' : 'ies'}, newest first`
        : failedOnly.checked
          ? 'None failed.'
          : 'Nothing sent yet: events since the webhook was added show here.';
      clear(
        logPager,
        ...(m.totalPages > 1
          ? [
              h('button.btn', { type: 'button', disabled: logPage <= 1, onclick: () => ((logPage -= 1), logSeq++, void loadLog()) }, 'Newer'),
              h('span.small', `Page ${m.currentPage} of ${m.totalPages}`),
              h('button.btn', { type: 'button', disabled: logPage >= m.totalPages, onclick: () => ((logPage += 1), logSeq++, void loadLog()) }, 'Older'),
            ]
          : []),
      );
    }

    function makeRow(first: Delivery) {
      let d = first;
      const when = h('td.time');
      const event = h('td');
      const outcome = h('td.wh-outcome');
      const retry = h('button.btn', { type: 'button', 'data-action': 'retry', onclick: () => void retryDelivery() }, 'Retry');
      const more = h('button.btn', { type: 'button', 'data-action': 'attempts', 'aria-expanded': 'false', onclick: () => void toggleAttempts() }, 'Attempts');
      const tr = h('tr', { 'data-delivery': d.id }, when, event, outcome, h('td', h('div.rowactions', more, retry)));
      const detailCell = h('td', { colspan: 4 });
      const details = h('tr.wh-attempts', { hidden: true }, detailCell);

      const update = (next: Delivery) => {
        d = next;
        const a = d.attributes;
        const mark = deliveryMark(a);
        tr.dataset.state = a.state;
        tr.dataset.mark = mark;
        tr.className = `wh-row wh-row-${mark}`;
        when.textContent = localTime(a.createdAt);
        when.title = localDateTime(a.createdAt);
        clear(event, eventName(a.eventType), a.eventName !== a.eventType ? h('div.small', a.eventName) : null);
        outcome.textContent = deliveryWords(a);
        // Retry: a failed delivery, or one waiting for its next try (sent now instead).
        retry.hidden = !(a.state === 'failed' || (a.state === 'pending' && a.attempts > 0));
        retry.textContent = a.state === 'failed' ? 'Retry' : 'Try now';
        if (!details.hidden) void loadAttempts();
      };

      async function retryDelivery(): Promise<void> {
        retry.disabled = true;
        try {
          const doc = await app.api<WebhookDeliveryDoc>('POST', `${DELIVERIES}/${encodeURIComponent(d.id)}/retry`);
          logSeq++;
          update(doc.data);
          app.toast(`Sent again: ${eventName(doc.data.attributes.eventType)}`, 'ok');
          void loadList();
        } catch (e) {
          fail(e, 'Not sent again');
        } finally {
          retry.disabled = false;
        }
      }

      async function loadAttempts(): Promise<void> {
        try {
          const doc = await app.api<WebhookDeliveryDetailDoc>('GET', `${DELIVERIES}/${encodeURIComponent(d.id)}`);
          const tries = doc.included.map((x) => x.attributes);
          clear(
            detailCell,
            tries.length
              ? h(
                  'ol.wh-tries',
                  ...tries.map((t) => h('li', { 'data-status': t.status ?? 'none' }, `${localTime(t.at)} · ${attemptWords(t)}`)),
                )
              : h('p.small', 'Not sent yet.'),
          );
        } catch (e) {
          fail(e, 'Attempts not loaded');
        }
      }

      async function toggleAttempts(): Promise<void> {
        details.hidden = !details.hidden;
        more.setAttribute('aria-expanded', String(!details.hidden));
        if (!details.hidden) await loadAttempts();
      }

      update(d);
      return { tr, details, update };
    }

    // ---- keeping it current ----

    void loadList();
    const timers = [
      window.setInterval(() => void loadList('idle'), LIST_EVERY_MS),
      window.setInterval(() => void loadLog('idle'), LOG_EVERY_MS),
      window.setInterval(() => void pollTests(), TEST_EVERY_MS),
    ];
    return () => {
      unmounted = true;
      for (const t of timers) clearInterval(t);
    };
  },
};
