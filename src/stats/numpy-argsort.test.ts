import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import { numpyArgsort, numpyHeapArgsort } from './numpy-argsort.js';

/** NumPy 1.24's own argsort output (test/fixtures/oracles/make-sklearn-splits.py). */
const oracle = JSON.parse(readFileSync(oraclePath('sklearn-splits.json'), 'utf8')) as {
  argsort: {
    values: number[];
    order: number[] | null;
    head: number[];
    weighted_sum: number;
    heapsort_weighted_sum: number;
  }[];
};

describe("NumPy's default argsort (introsort, not stable)", () => {
  it('orders tied values as NumPy does, from 5 to 20,000 rows', () => {
    for (const c of oracle.argsort) {
      const order = numpyArgsort(c.values);
      const at = `${c.values.length} values`;
      if (c.order) assert.deepEqual(Array.from(order), c.order, at);
      assert.deepEqual(Array.from(order.subarray(0, 100)), c.head, at);
      assert.equal(
        order.reduce((sum, index, position) => sum + index * position, 0),
        c.weighted_sum,
        at,
      );
    }
  });

  it('falls back to the same heapsort (kind="heapsort")', () => {
    const weighted = (order: Uint32Array) =>
      order.reduce((sum, index, position) => sum + index * position, 0);
    for (const c of oracle.argsort)
      assert.equal(
        weighted(numpyHeapArgsort(c.values)),
        c.heapsort_weighted_sum,
        `${c.values.length} values`,
      );
  });

  it('sorts, with NaN last, and differs from a stable sort on ties', () => {
    assert.deepEqual(Array.from(numpyArgsort([0.5, Number.NaN, 0.1, 0.3])), [2, 3, 0, 1]);
    assert.deepEqual(Array.from(numpyArgsort([])), []);
    const ties = oracle.argsort.find((c) => c.values.length === 1000 && new Set(c.values).size < 10)!;
    const stable = Array.from(ties.values.keys()).sort((a, b) => ties.values[a]! - ties.values[b]!);
    assert.notDeepEqual(Array.from(numpyArgsort(ties.values)), stable);
  });
});
