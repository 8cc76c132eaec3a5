// The wallets in words, and the address a customer's phone opens a pass's holder page at: the
// manager's QR under an issued pass, the status screen's wallet lines. Pure: the screens pass
// the window's location in, the tests pin it.
//
// The shapes are `/api/v1/status`'s `wallet` (`WalletStatus` in the OpenAPI document), aliased
// in `src/api/types.ts`.

import type { WalletLine, WalletStatus } from './api/types';

export type { WalletLine, WalletStatus };

/** The parts of `window.location` the address is made from. */
export interface Here {
  protocol: string;
  host: string;
  hostname: string;
}

/** A holder page's address a phone can open (`url`), or why there is none (`note`). */
export type HolderAddress = { url: string; note: null } | { url: null; note: string };

export const NO_LAN_ADDRESS =
  'A phone cannot open this counter’s own address (it is this PC’s loopback): set the counter’s LAN address, [wallet] holder_base_url in passdesk.toml, to show a QR the customer’s phone can follow.';

/** Names that reach only the machine they are typed on (the Tauri window's own included). */
export function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    h === '' ||
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    h === '::1' ||
    h === '0:0:0:0:0:0:0:1' ||
    h === '0.0.0.0' ||
    h === '::'
  );
}

/** The holder page of a pass whose `downloadUrl` is `downloadUrl` (a path, `/p/<token>`), as a
 * phone on the shop's LAN opens it: under `[wallet] holder_base_url` when the counter has one,
 * else under the address this screen was opened at when that is not loopback (a manager's
 * tablet on the LAN), else none, and the sentence saying what to set. */
export function holderAddress(downloadUrl: string, holderBaseUrl: string | null | undefined, here: Here): HolderAddress {
  if (/^https?:\/\//i.test(downloadUrl)) return { url: downloadUrl, note: null };
  const path = downloadUrl.startsWith('/') ? downloadUrl : `/${downloadUrl}`;
  const base = holderBaseUrl?.trim().replace(/\/+$/, '');
  if (base) return { url: base + path, note: null };
  if (/^https?:$/.test(here.protocol) && !isLoopback(here.hostname)) {
    return { url: `${here.protocol}//${here.host}${path}`, note: null };
  }
  return { url: null, note: NO_LAN_ADDRESS };
}

const NAMES = { apple: 'Apple Wallet', google: 'Google Wallet' } as const;
export type WalletName = keyof typeof NAMES;

/** A wallet's state in words: "ready", "not set up", "cannot be used". */
export function stateWords(line: WalletLine): string {
  switch (line.state) {
    case 'ready':
      return 'ready';
    case 'notConfigured':
      return 'not set up';
    default:
      return 'cannot be used';
  }
}

/** The lines under the holder QR: one per wallet that is not ready, saying what is missing
 * ("Apple Wallet: not set up — …"); none for a ready wallet. No status at all (an older
 * counter): no lines. */
export function missingWallets(w: WalletStatus | null | undefined): { wallet: WalletName; state: WalletLine['state']; text: string }[] {
  if (!w) return [];
  return (Object.keys(NAMES) as WalletName[])
    .filter((k) => w[k].state !== 'ready')
    .map((k) => ({ wallet: k, state: w[k].state, text: `${NAMES[k]}: ${stateWords(w[k])} — ${w[k].detail ?? 'no reason given'}` }));
}

/** The status screen's rows: each wallet's state (and why, when not ready), and where phones
 * reach the holder pages. */
export function walletRows(w: WalletStatus | null | undefined): [string, string][] {
  if (!w) return [];
  const row = (k: WalletName): [string, string] => [
    NAMES[k],
    w[k].state === 'ready' ? 'ready' : `${stateWords(w[k])}${w[k].detail ? `: ${w[k].detail}` : ''}`,
  ];
  return [row('apple'), row('google'), ['Holder pages at', w.holderBaseUrl ?? 'this screen’s address ([wallet] holder_base_url not set)']];
}
