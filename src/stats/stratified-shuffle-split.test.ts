import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import { NumpyLegacyRandom } from './numpy-legacy-random.js';
import { approximateMode, stratifiedShuffleSplits } from './stratified-shuffle-split.js';

/** NumPy's and scikit-learn's own output (test/fixtures/oracles/make-sklearn-splits.py). */
const oracle = JSON.parse(readFileSync(oraclePath('sklearn-splits.json'), 'utf8')) as {
  permutations: { seed: number; n: number; head: number[] }[];
  approximate_mode: { counts: number[]; draws: number; seed: number; first: number[]; second: number[] }[];
  splits: {
    labels: number[] | null;
    n: number;
    share: number;
    seed: number;
    full: boolean;
    splits: {
      train?: number[];
      test?: number[];
      train_head?: number[];
      test_head?: number[];
      train_sum?: number;
      test_sum?: number;
    }[];
  }[];
};

/** NumPy's random_sample on the legacy generator: 53 bits from two 32-bit outputs. */
function randomSample(rng: NumpyLegacyRandom): number {
  const a = rng.nextUint32() >>> 5;
  const b = rng.nextUint32() >>> 6;
  return (a * 67108864 + b) / 9007199254740992;
}

const sum = (values: Uint32Array) => values.reduce((a, b) => a + b, 0);

describe("NumPy's legacy RandomState", () => {
  it('permutes as RandomState(seed).permutation(n), for small and large n and extreme seeds', () => {
    for (const { seed, n, head } of oracle.permutations)
      assert.deepEqual(
        Array.from(new NumpyLegacyRandom(seed).permutation(n).subarray(0, 40)),
        head,
        `seed ${seed}, n ${n}`,
      );
  });

  it('refuses a seed NumPy refuses', () => {
    assert.throws(() => new NumpyLegacyRandom(-1), /seed/);
    assert.throws(() => new NumpyLegacyRandom(2 ** 32), /seed/);
  });
});

describe("scikit-learn's StratifiedShuffleSplit", () => {
  it('allocates draws to classes as _approximate_mode, ties broken by the same draws', () => {
    for (const { counts, draws, seed, first, second } of oracle.approximate_mode) {
      const rng = new NumpyLegacyRandom(seed);
      assert.deepEqual(approximateMode(counts, draws, rng), first, `${counts} ${draws} seed ${seed}`);
      assert.deepEqual(approximateMode(counts, draws, rng), second, `${counts} ${draws} seed ${seed}, again`);
    }
  });

  it('holds out the same rows in the same order, split after split (n = 25 to 50,000)', () => {
    for (const c of oracle.splits) {
      // The labels of the large cases are drawn here as the script drew them (random_sample < share).
      const labels =
        c.labels ??
        (() => {
          const rng = new NumpyLegacyRandom(c.seed);
          return Array.from({ length: c.n }, () => (randomSample(rng) < c.share ? 1 : 0));
        })();
      const ours = stratifiedShuffleSplits(labels, { splits: 10, testShare: 0.1, seed: 42 });
      assert.equal(ours.length, 10);
      for (const [k, theirs] of c.splits.entries()) {
        const { train, test } = ours[k]!;
        const at = `n ${c.n}, split ${k}`;
        if (c.full) {
          assert.deepEqual(Array.from(train), theirs.train, at);
          assert.deepEqual(Array.from(test), theirs.test, at);
        } else {
          assert.deepEqual(Array.from(train.subarray(0, 50)), theirs.train_head, at);
          assert.deepEqual(Array.from(test.subarray(0, 50)), theirs.test_head, at);
          assert.equal(sum(train), theirs.train_sum, at);
          assert.equal(sum(test), theirs.test_sum, at);
        }
      }
    }
  });

  it('refuses a class of one row, as scikit-learn raises', () => {
    assert.throws(
      () => stratifiedShuffleSplits([0, 0, 0, 1], { splits: 1, testShare: 0.5, seed: 42 }),
      /fewer than 2 rows/,
    );
  });
});
