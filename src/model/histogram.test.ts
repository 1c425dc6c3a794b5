import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../data/rng.js';
import { accumulateHistogram, createHistogramScratch } from './histogram.js';

/** A small column-major bin matrix with skewed bins (a dominant bin 0, as missing values make). */
function makeInputs(rows: number, binCounts: readonly number[], seed: number) {
  const rng = createRng(seed);
  const nf = binCounts.length;
  const offsets = new Int32Array(nf + 1);
  for (let f = 0; f < nf; f++) offsets[f + 1] = offsets[f]! + binCounts[f]!;
  const bins = new Uint8Array(rows * nf);
  for (let f = 0; f < nf; f++)
    for (let r = 0; r < rows; r++)
      bins[f * rows + r] = rng.next() < 0.4 ? 0 : Math.floor(rng.next() * binCounts[f]!);
  const gradients = Int32Array.from({ length: rows }, () => Math.round((rng.next() * 2 - 1) * 2 ** 22));
  const hessians = Int32Array.from({ length: rows }, () => Math.round(rng.next() * 2 ** 22));
  const index = Uint32Array.from({ length: rows }, (_, i) => i);
  // A node's rows are a scattered subset: shuffle, then each call takes a range.
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [index[i], index[j]] = [index[j]!, index[i]!];
  }
  return { bins, rows, index, gradients, hessians, offsets, totalBins: offsets[nf]! };
}

function naive(input: ReturnType<typeof makeInputs>, start: number, end: number, features: number[]) {
  const out = new Float64Array(input.totalBins * 2);
  for (const f of features) {
    for (let i = start; i < end; i++) {
      const r = input.index[i]!;
      const cell = 2 * (input.offsets[f]! + input.bins[f * input.rows + r]!);
      out[cell]! += input.gradients[r]!;
      out[cell + 1]! += input.hessians[r]!;
    }
  }
  return out;
}

describe('accumulateHistogram', () => {
  const binCounts = [3, 17, 256, 2, 40, 9, 120, 5, 64];
  const input = makeInputs(5000, binCounts, 3);
  const scratch = createHistogramScratch(input.rows);

  it('equals a cell-by-cell sum for every feature count, order and row range', () => {
    const orders = [
      [0, 1, 2, 3, 4, 5, 6, 7, 8],
      [8, 2, 5, 0, 7, 3, 1, 6, 4],
    ];
    for (const order of orders) {
      for (let count = 0; count <= order.length; count++) {
        for (const [start, end] of [
          [0, 5000],
          [17, 4001],
          [100, 103],
          [9, 9],
        ] as const) {
          const features = Int32Array.from(order);
          const out = new Float64Array(input.totalBins * 2);
          accumulateHistogram(input, start, end, features, count, out, scratch);
          assert.deepEqual(
            out,
            naive(input, start, end, order.slice(0, count)),
            `${order} ${count} [${start}, ${end})`,
          );
        }
      }
    }
  });

  it('adds to what `out` holds, leaving the cells of unlisted features alone', () => {
    const out = new Float64Array(input.totalBins * 2).fill(1);
    accumulateHistogram(input, 0, 2000, Int32Array.from([2, 6]), 2, out, scratch);
    const expected = naive(input, 0, 2000, [2, 6]).map((v) => v + 1);
    assert.deepEqual(out, expected);
  });
});
