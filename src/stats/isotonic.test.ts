import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import { fitIsotonic, isotonicMap } from './isotonic.js';

interface IsotonicCase {
  name: string;
  x: number[];
  y: number[];
  thresholds_x: number[];
  thresholds_y: number[];
  queries: number[];
  predictions: number[];
}

const oracle = JSON.parse(readFileSync(oraclePath('isotonic.json'), 'utf8')) as {
  about: string;
  cases: IsotonicCase[];
};

function assertClose(got: readonly number[], want: readonly number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-12, `${what}[${i}]: ${got[i]} vs sklearn ${want[i]}`);
}

describe('isotonic regression against scikit-learn 1.2 (oracle)', () => {
  assert.ok(oracle.cases.length >= 15 && oracle.about.includes('scikit-learn'));
  for (const c of oracle.cases) {
    it(c.name, () => {
      const fitted = fitIsotonic(c.x, c.y);
      assertClose(fitted.x, c.thresholds_x, 'thresholds x');
      assertClose(fitted.y, c.thresholds_y, 'thresholds y');
      const map = isotonicMap(fitted);
      assertClose(
        c.queries.map((q) => map.apply(q)),
        c.predictions,
        'predictions',
      );
    });
  }
});

describe('isotonic edge cases', () => {
  it('refuses empty, mismatched or non-finite input', () => {
    assert.throws(() => fitIsotonic([], []), RangeError);
    assert.throws(() => fitIsotonic([1, 2], [1]), RangeError);
    assert.throws(() => fitIsotonic([1, Number.NaN], [0, 1]), /row 1/);
    assert.throws(() => isotonicMap({ x: [0.5, 0.5], y: [0, 1] }), /not increasing/);
  });
  it('keeps NaN as NaN', () => {
    assert.ok(Number.isNaN(isotonicMap({ x: [0, 1], y: [0, 1] }).apply(Number.NaN)));
  });
});
