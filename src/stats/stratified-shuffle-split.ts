/**
 * scikit-learn's `StratifiedShuffleSplit(n_splits, test_size, random_state)` (the algorithm of
 * scikit-learn 0.22 to 1.5), draw for draw on NumPy's legacy generator (numpy-legacy-random.ts): the
 * held-out rows NannyML's CBPE uses to decide whether to calibrate. Per split, each class's train and
 * test counts come from `_approximate_mode` (floored shares, the rest to the largest remainders, ties
 * drawn at random), then each class's rows are permuted and cut, and the train and test lists are
 * permuted once more (which moves the generator on for the next split).
 */
import { NumpyLegacyRandom } from './numpy-legacy-random.js';

export interface ShuffleSplit {
  readonly train: Uint32Array;
  readonly test: Uint32Array;
}

/**
 * How many of `nDraws` each class gets (`sklearn.utils._approximate_mode`).
 * @example approximateMode([4, 2], 3, new NumpyLegacyRandom(0)) // [2, 1]
 */
export function approximateMode(
  classCounts: readonly number[],
  nDraws: number,
  rng: NumpyLegacyRandom,
): number[] {
  const total = classCounts.reduce((a, b) => a + b, 0);
  // Same float operations as NumPy: (count / total) * draws.
  const continuous = classCounts.map((c) => (c / total) * nDraws);
  const floored = continuous.map(Math.floor);
  let needToAdd = nDraws - floored.reduce((a, b) => a + b, 0);
  if (needToAdd > 0) {
    const remainder = continuous.map((c, i) => c - floored[i]!);
    const values = [...new Set(remainder)].sort((a, b) => b - a);
    for (const value of values) {
      const inds = remainder.flatMap((r, i) => (r === value ? [i] : []));
      const addNow = Math.min(inds.length, needToAdd);
      for (const i of rng.choiceWithoutReplacement(inds, addNow)) floored[i]! += 1;
      needToAdd -= addNow;
      if (needToAdd === 0) break;
    }
  }
  return floored;
}

/**
 * The `splits` train/test index sets of `labels` (any numbers; classes in ascending order, as
 * `np.unique` gives them) with `ceil(testShare · n)` test rows each.
 * Throws RangeError, as scikit-learn raises, when a class has fewer than 2 rows or either part would
 * hold fewer rows than there are classes.
 */
export function stratifiedShuffleSplits(
  labels: ArrayLike<number>,
  options: { readonly splits: number; readonly testShare: number; readonly seed: number },
): ShuffleSplit[] {
  const n = labels.length;
  const nTest = Math.ceil(options.testShare * n);
  const nTrain = n - nTest;
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const classOf = new Map(classes.map((c, k) => [c, k]));
  // Each class's rows in ascending order (np.argsort(y_indices, kind="mergesort") split by class).
  const classRows = classes.map(() => [] as number[]);
  for (let i = 0; i < n; i++) classRows[classOf.get(labels[i]!)!]!.push(i);
  const counts = classRows.map((rows) => rows.length);
  if (Math.min(...counts) < 2)
    throw new RangeError('stratified split: the least populated class has fewer than 2 rows');
  if (nTrain < classes.length || nTest < classes.length)
    throw new RangeError(`stratified split: ${n} rows cannot give train and test parts one row per class`);

  const rng = new NumpyLegacyRandom(options.seed);
  const out: ShuffleSplit[] = [];
  for (let split = 0; split < options.splits; split++) {
    const trainCounts = approximateMode(counts, nTrain, rng);
    const testCounts = approximateMode(
      counts.map((c, k) => c - trainCounts[k]!),
      nTest,
      rng,
    );
    const train = new Uint32Array(nTrain);
    const test = new Uint32Array(nTest);
    let tr = 0;
    let te = 0;
    for (const [k, rows] of classRows.entries()) {
      const permutation = rng.permutation(rows.length);
      for (let j = 0; j < trainCounts[k]!; j++) train[tr++] = rows[permutation[j]!]!;
      for (let j = trainCounts[k]!; j < trainCounts[k]! + testCounts[k]!; j++)
        test[te++] = rows[permutation[j]!]!;
    }
    out.push({ train: rng.shuffle(train), test: rng.shuffle(test) });
  }
  return out;
}
