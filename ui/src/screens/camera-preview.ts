// The status screen's camera preview: what the camera sees (the service's latest frame, grey,
// at most 640 px wide) with the code it read in the last 1.5 s outlined in green and its text
// under it. Polled about 4 times a second while shown and the camera is connected; each
// picture is a blob URL, the previous one revoked, so memory stays flat.

import { ApiError, api, apiBlob } from '../api/client';
import type { CameraPreviewDoc } from '../api/types';
import { h } from '../dom';

const SHOW_KEY = 'passdesk.showCamera';
const EVERY_MS = 250;
const SVG = 'http://www.w3.org/2000/svg';

export interface CameraPreview {
  el: HTMLElement;
  /** Whether the camera is connected (from the status); polling runs only then. */
  setConnected(connected: boolean): void;
  stop(): void;
}

export function cameraPreview(): CameraPreview {
  let shown = localStorage.getItem(SHOW_KEY) === '1';
  let connected = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let url: string | null = null;
  let stopped = false;

  const img = h('img.camera-image', { alt: 'What the camera sees', 'data-testid': 'camera-image' });
  const svg = document.createElementNS(SVG, 'svg');
  svg.classList.add('camera-outline');
  svg.setAttribute('preserveAspectRatio', 'none');
  const polygon = document.createElementNS(SVG, 'polygon');
  polygon.setAttribute('data-testid', 'camera-polygon');
  svg.append(polygon);
  const text = h('p.camera-text', { 'data-testid': 'camera-text' });
  const frame = h('div.camera-frame', img, svg);
  const box = h('div.camera', { hidden: true }, frame, text);
  const toggle = h('input#show-camera', {
    type: 'checkbox',
    checked: shown,
    onchange: (e: Event) => {
      shown = (e.target as HTMLInputElement).checked;
      localStorage.setItem(SHOW_KEY, shown ? '1' : '0');
      schedule(0);
    },
  });
  const el = h('div', h('label.check', toggle, ' Show camera'), box);

  const release = () => {
    if (url) URL.revokeObjectURL(url);
    url = null;
    img.removeAttribute('src');
  };

  const tick = async () => {
    timer = undefined;
    if (stopped || !shown || !connected) {
      box.hidden = true;
      release();
      return;
    }
    let wait = EVERY_MS;
    try {
      const info = (await api<CameraPreviewDoc>('GET', '/api/v1/camera/preview.json')).data.attributes;
      const blob = await apiBlob('/api/v1/camera/preview');
      if (stopped || !shown) return;
      const old = url;
      url = URL.createObjectURL(blob);
      img.src = url;
      if (old) URL.revokeObjectURL(old);
      svg.setAttribute('viewBox', `0 0 ${info.width} ${info.height}`);
      const points = around(info.outline ?? []);
      polygon.setAttribute('points', points.map(([x, y]) => `${x},${y}`).join(' '));
      svg.classList.toggle('camera-outline-on', points.length >= 3);
      text.textContent = info.text ?? 'No code in view';
      box.hidden = false;
    } catch (e) {
      // Not connected (yet), or no answer: say so and look again a little later.
      text.textContent = e instanceof ApiError ? e.message : 'The counter service does not answer.';
      box.hidden = false;
      wait = 1000;
    }
    schedule(wait);
  };

  function schedule(ms: number) {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => void tick(), ms);
  }

  return {
    el,
    setConnected(c: boolean) {
      const was = connected;
      connected = c;
      if (c !== was) schedule(0);
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      release();
    },
  };
}

/** The points in order around their centre, so four corners draw a quadrilateral (the decoder
 * lists them in its own order, which would draw a bow tie). */
export function around(points: number[][]): number[][] {
  const n = points.length || 1;
  const cx = points.reduce((s, p) => s + p[0], 0) / n;
  const cy = points.reduce((s, p) => s + p[1], 0) / n;
  return [...points].sort((a, b) => Math.atan2(a[1] - cy, a[0] - cx) - Math.atan2(b[1] - cy, b[0] - cx));
}
