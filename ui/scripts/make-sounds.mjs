// Writes the three outcome tones to public/sounds/*.wav: 8 kHz, 8-bit mono PCM, a few KB each.
//   accept:  two rising notes (a friendly "ding-ding")
//   warning: two equal mid notes
//   reject:  one low buzz, longer
// Run: node scripts/make-sounds.mjs (the WAVs are committed; rerun only to change them).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RATE = 8000;
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'sounds');

/** notes: [frequencyHz, seconds, waveform][]; a short fade at each end avoids clicks. */
function render(notes) {
  const samples = [];
  for (const [f, secs, wave] of notes) {
    const n = Math.round(secs * RATE);
    for (let i = 0; i < n; i++) {
      const t = i / RATE;
      const phase = (t * f) % 1;
      let v = wave === 'square' ? (phase < 0.5 ? 1 : -1) * 0.5 : Math.sin(2 * Math.PI * phase);
      const fade = Math.min(1, i / (0.005 * RATE), (n - i) / (0.02 * RATE));
      samples.push(f === 0 ? 0 : v * fade * 0.9);
    }
  }
  return samples;
}

function wav(samples) {
  const data = Buffer.alloc(samples.length);
  samples.forEach((s, i) => (data[i] = Math.max(0, Math.min(255, Math.round(128 + s * 127)))));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE, 28); // byte rate
  h.writeUInt16LE(1, 32); // block align
  h.writeUInt16LE(8, 34); // bits per sample
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

const tones = {
  accept: [[880, 0.09, 'sine'], [0, 0.03], [1320, 0.16, 'sine']],
  warning: [[660, 0.12, 'sine'], [0, 0.06], [660, 0.12, 'sine']],
  reject: [[220, 0.45, 'square']],
};

mkdirSync(out, { recursive: true });
for (const [name, notes] of Object.entries(tones)) {
  const file = join(out, `${name}.wav`);
  writeFileSync(file, wav(render(notes)));
  console.log(`${file}`);
}
