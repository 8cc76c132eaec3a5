// "Today" on a screen is the service's: the local day in the counter's time zone (a gate bound
// to an event: the event's), as `GET /api/v1/scans/today` answers it in `meta.day`. A screen
// shows that day until its end, then asks again, so its totals go to zero at the counter's
// midnight, not the browser's, and without a reload.

import type { LocalDay, ScanDay } from './api/types';

/** The service still counts a day that this screen's clock has seen end (the two clocks differ
 * a little): ask again this much later. */
const BEHIND_RETRY_MS = 2_000;
/** A failed load is tried again this much later. */
const FAILED_RETRY_MS = 10_000;
/** Timers wake at least this often to look at the clock: one set for hours ahead can fire late
 * by however long the machine slept. */
const MAX_WAIT_MS = 60 * 60_000;

export interface DayWatch {
  /** Loads the day now (a decision came; its totals are fetched). */
  refresh(): void;
  /** The day shown, once loaded. */
  day(): LocalDay | null;
  /** Whether `at` (RFC 3339) falls in the day shown; a time after it starts a new load. */
  contains(at: string): boolean;
  stop(): void;
}

/** Loads with `load` now, at the end of each day it answers, and on `refresh`; gives each answer
 * to `show`, never an older one after a newer (answers can cross), nor an earlier day's. */
export function watchDay(
  load: () => Promise<ScanDay>,
  show: (doc: ScanDay, newDay: boolean) => void,
  failed: (e: unknown, loadedBefore: boolean) => void,
): DayWatch {
  let shown: LocalDay | null = null;
  let asked = 0;
  let applied = 0;
  let timer: number | undefined;
  let stopped = false;

  const wait = (ms: number, then: () => void) => {
    clearTimeout(timer);
    timer = window.setTimeout(then, Math.min(Math.max(ms, 0), MAX_WAIT_MS));
  };

  /** Wakes at the end of the day shown (or sooner, to look at the clock again). */
  const arm = () => {
    if (stopped || !shown) return;
    const left = Date.parse(shown.end) - Date.now();
    if (left > MAX_WAIT_MS) wait(MAX_WAIT_MS, arm);
    else wait(left, refresh);
  };

  function refresh(): void {
    if (stopped) return;
    const n = ++asked;
    load().then(
      (doc) => {
        if (stopped || n < applied) return;
        const day = doc.meta.day;
        if (shown && Date.parse(day.start) < Date.parse(shown.start)) return;
        applied = n;
        const newDay = !shown || day.start !== shown.start;
        shown = day;
        show(doc, newDay);
        if (Date.parse(day.end) <= Date.now()) wait(BEHIND_RETRY_MS, refresh);
        else arm();
      },
      (e) => {
        if (stopped || n < applied) return;
        failed(e, shown !== null);
        wait(FAILED_RETRY_MS, refresh);
      },
    );
  }

  refresh();
  return {
    refresh,
    day: () => shown,
    contains(at) {
      if (!shown) return true;
      const t = Date.parse(at);
      if (t >= Date.parse(shown.end)) {
        refresh();
        return false;
      }
      return t >= Date.parse(shown.start);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
