// Status: the node, its cache and outbox, the wallets (Apple, Google: ready or what is missing),
// devices (readers, camera) connected or not, the configured readers, the live connection, sound volume, sign out.

import { setKey } from '../api/client';
import type { StatusDoc, WebhookStatus } from '../api/types';
import type { Screen } from '../app';
import { clear, h } from '../dom';
import { getVolume, play, setVolume } from '../sound';
import { backlogWords, formatName, health, healthWords, lastSuccessWords } from '../webhook-words';
import { banner, type SyncStatus } from '../sync-words';
import { cameraPreview } from './camera-preview';
import { walletRows } from '../wallet-words';

export const status: Screen = {
  title: 'Status',
  role: 'reader',
  mount(root, app) {
    const facts = h('dl.facts', { 'data-testid': 'status-facts' });
    const readers = h('div');
    const devices = h('div', { 'data-testid': 'status-devices' });
    const hooks = h('div', { 'data-testid': 'status-webhooks' });
    const camera = cameraPreview();
    const volume = h('input#volume', {
      type: 'range',
      min: '0',
      max: '100',
      step: '5',
      value: String(Math.round(getVolume() * 100)),
      'aria-label': 'Volume',
      oninput: (e: Event) => setVolume(Number((e.target as HTMLInputElement).value) / 100),
    });
    root.append(
      h(
        'div.status',
        h('section', h('h2', 'This counter'), facts, h('h2.spaced', 'Webhooks'), hooks),
        h('section', h('h2', 'Devices'), devices, camera.el, h('h2.spaced', 'Readers'), readers),
        h(
          'section',
          h('h2', 'Sound'),
          h('label', { for: 'volume' }, 'Volume'),
          volume,
          h(
            'div.row',
            h('button.btn.outcome-accept', { type: 'button', onclick: () => play('accept') }, 'Accept'),
            h('button.btn.outcome-warning', { type: 'button', onclick: () => play('warning') }, 'Warning'),
            h('button.btn.outcome-reject', { type: 'button', onclick: () => play('reject') }, 'Reject'),
          ),
          h('h2', 'Session'),
          h(
            'button.btn',
            {
              type: 'button',
              onclick: () => {
                // A reload also forgets whoever signed in on top (held in memory only).
                setKey(null);
                location.reload();
              },
            },
            'Sign out (forget this station’s key)',
          ),
        ),
      ),
    );
    const load = async () => {
      try {
        const s = (await app.api<StatusDoc>('GET', '/api/v1/status')).data.attributes;
        const up = `${Math.floor(s.uptimeSeconds / 3600)} h ${Math.floor((s.uptimeSeconds % 3600) / 60)} min`;
        const rows: [string, string][] = [
          ['Live stream', app.online() ? 'connected' : 'offline'],
          ['Version', s.version],
          ['Node', `${s.nodeName ?? ''} ${s.nodeId}`.trim()],
          ['Signing key', s.keyId],
          ['Up for', up],
          ['Passes in cache', String(s.passes)],
          ['Scans today', String(s.scansToday)],
          ['Waiting to send', String(s.outboxPending)],
          ...syncRows((s as unknown as { sync?: SyncStatus }).sync),
          ...walletRows(s.wallet),
          ['This station', `reader ${app.reader()}`],
        ];
        camera.setConnected(s.devices.some((d) => d.kind === 'camera' && d.connected));
        clear(facts, ...rows.flatMap(([k, v]) => [h('dt', k), h('dd', v)]));
        clear(
          devices,
          s.devices.length
            ? h(
                'ul.devices',
                ...s.devices.map((d) =>
                  h(
                    'li',
                    { class: d.connected ? 'device device-on' : 'device device-off', 'data-kind': d.kind },
                    h('b', d.connected ? 'Connected' : 'Not connected'),
                    h('span', `${d.kind} · ${d.name}${d.readerId ? ` · reader ${d.readerId}` : ''}`),
                    d.detail ? h('span.small', d.detail) : null,
                  ),
                ),
              )
            : h('p.sub', 'No reader or camera attached to this counter: scans come from the scan box and the API.'),
        );
        clear(hooks, webhookLines(s.webhooks));
        clear(
          readers,
          h(
            'table.table',
            h('thead', h('tr', h('th', 'Id'), h('th', 'Name'), h('th', 'Direction'), h('th', 'Event'), h('th', 'Scan'))),
            h(
              'tbody',
              ...s.readers.map((r) =>
                h('tr', h('td', r.id), h('td', r.name), h('td', r.direction), h('td', r.eventId ?? ''), h('td', r.scanEnabled ? 'yes' : 'no')),
              ),
            ),
          ),
        );
      } catch {
        clear(facts, h('p', 'The counter service does not answer.'));
      }
    };
    void load();
    const timer = setInterval(load, 10_000);
    return () => {
      clearInterval(timer);
      camera.stop();
    };
  },
};

/** A line per webhook: its health in words (in the colour of its edge), what waits, the last
 * success. */
function webhookLines(lines: WebhookStatus[]): HTMLElement {
  if (!lines.length) return h('p.sub', 'No webhooks: nothing is sent out.');
  return h(
    'ul.wh-lines',
    ...lines.map((w) =>
      h(
        'li',
        { class: `wh-line health-${health(w)}`, 'data-sub': w.id },
        h('b', healthWords(w)),
        h('span.wh-url', `${w.host} · ${formatName(w.format)}`),
        h('span.small', `${backlogWords(w)} · ${lastSuccessWords(w.lastSuccessAt)}`),
      ),
    ),
  );
}

/** The status screen's lines about the hub: where, as whom, the banner's words, what waits. */
function syncRows(sync: SyncStatus | undefined): [string, string][] {
  if (!sync?.joined) return [['Hub', 'not joined (passdesk sync join)']];
  return [
    ['Hub', `${sync.hubUrl ?? ''} as ${sync.nodeName ?? ''}`.trim()],
    ['Sync', banner(sync, new Date()).text],
    ['Sync conflicts', String(sync.conflicts)],
    ['Refused by the hub', String(sync.rejected)],
  ];
}
