// One short tone per outcome (ui/public/sounds/*.wav, made by scripts/make-sounds.mjs), at the
// volume set on the Status screen (kept in localStorage).

export type Tone = 'accept' | 'reject' | 'warning';

const VOLUME_KEY = 'passdesk.volume';
const cache = new Map<Tone, HTMLAudioElement>();

export function getVolume(): number {
  const v = Number(localStorage.getItem(VOLUME_KEY) ?? '0.8');
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0.8;
}

export function setVolume(v: number): void {
  localStorage.setItem(VOLUME_KEY, String(Math.min(1, Math.max(0, v))));
}

export function play(tone: Tone): void {
  const vol = getVolume();
  if (vol <= 0) return;
  let a = cache.get(tone);
  if (!a) {
    a = new Audio(`/sounds/${tone}.wav`);
    a.preload = 'auto';
    cache.set(tone, a);
  }
  a.volume = vol;
  a.currentTime = 0;
  // Browsers refuse sound before the first user gesture; a kiosk allows it. Never an error.
  a.play().catch(() => {});
}
