import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import { quantileSorted, quantiles } from './quantiles.js';

interface QuantileCase {
  name: string;
  values: number[];
  probs: number[];
  quantiles_linear: number[];
}

const oracle = JSON.parse(readFileSync(oraclePath('quantiles.json'), 'utf8')) as { cases: QuantileCase[] };

describe('quantiles against numpy.quantile (oracle)', () => {
  assert.ok(oracle.cases.length > 0);
  for (const c of oracle.cases) {
    it(c.name, () => {
      const got = quantiles(c.values, c.probs);
      // Bit-identical: these values become bin edges where "equal goes right" decides the bin.
      assert.deepEqual(got, c.quantiles_linear);
    });
  }
});

describe('quantiles edge cases', () => {
  it('ignores NaN and does not need sorted input', () => {
    assert.deepEqual(quantiles([3, Number.NaN, 1, 2], [0, 0.5, 1]), [1, 2, 3]);
  });
  it('interpolates linearly', () => {
    assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantileSorted([10], 0.3), 10);
  });
  it('throws on empty input or bad probability', () => {
    assert.throws(() => quantiles([Number.NaN], [0.5]), RangeError);
    assert.throws(() => quantileSorted([1, 2], 1.5), RangeError);
    assert.throws(() => quantileSorted([1, 2], Number.NaN), RangeError);
  });
});
