/** Seeded index sampling for the trainer, the validation split and the profile's value samples. */
import type { Rng } from '../data/rng.js';

/** Fisher-Yates shuffle of 0..n-1. O(n). */
export function shuffledIndices(n: number, rng: Rng): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}
