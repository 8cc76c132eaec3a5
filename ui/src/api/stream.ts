// Live decisions from GET /api/v1/scans/stream (server-sent events named `decision`), and a
// word when sync changed something here (`sync`).
//
// Why fetch() streaming and not EventSource: EventSource cannot send an Authorization header,
// so it would need the API key in the URL (`?key=`), where it lands in request lines, proxy
// logs and browser history, or a cookie, which brings CSRF into an API that has none today.
// fetch() with a ReadableStream sends the same bearer header as every other call, needs no
// change to the service's auth, and lets us see a dead connection (we reconnect ourselves,
// with a watchdog on the 15 s keep-alive comments axum sends).

import { getKey } from './client';
import type { ScanResource } from './types';

export interface StreamHandlers {
  onDecision: (scan: ScanResource) => void;
  onState: (connected: boolean) => void;
  /** Sync changed something here (a page applied, a conflict): what a screen shows may have
   * changed. */
  onSync?: () => void;
}

const WATCHDOG_MS = 40_000;

export function openStream(h: StreamHandlers): () => void {
  let stopped = false;
  let ctl: AbortController | null = null;
  let retryMs = 500;

  const run = async (): Promise<void> => {
    while (!stopped) {
      ctl = new AbortController();
      let watchdog = setTimeout(() => ctl?.abort(), WATCHDOG_MS);
      try {
        const key = getKey();
        const res = await fetch('/api/v1/scans/stream', {
          headers: { Accept: 'text/event-stream', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
          signal: ctl.signal,
          cache: 'no-store',
        });
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        h.onState(true);
        retryMs = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          clearTimeout(watchdog);
          watchdog = setTimeout(() => ctl?.abort(), WATCHDOG_MS);
          buf += value;
          let cut: number;
          while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
            dispatch(block, h);
          }
        }
      } catch {
        // fall through to reconnect
      } finally {
        clearTimeout(watchdog);
      }
      if (stopped) return;
      h.onState(false);
      await new Promise((r) => setTimeout(r, retryMs));
      retryMs = Math.min(retryMs * 2, 5000);
    }
  };
  void run();
  return () => {
    stopped = true;
    ctl?.abort();
  };
}

function dispatch(block: string, h: StreamHandlers): void {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (event === 'sync') return h.onSync?.();
  if (event !== 'decision' || data.length === 0) return;
  try {
    h.onDecision(JSON.parse(data.join('\n')) as ScanResource);
  } catch {
    // a garbled event is skipped; the next one is whole
  }
}
