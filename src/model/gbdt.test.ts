import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ColumnarTable } from '../data/columnar-table.js';
import { createRng } from '../data/rng.js';
import { rocAuc } from '../stats/classification.js';
import { compileForest, scoreColumns, scoreVector } from './compiled-forest.js';
import { binTable, fitEncoders } from './feature-encoder.js';
import { addTreeMargins, DEFAULT_GBDT_PARAMS, type GbdtParams, trainGbdt } from './gbdt.js';
import { sampleHash } from './training-shard.js';

/** x1, x2 uniform; x3 missing 30 % of the time; c a category among 6 plus missing. */
function makeTable(
  n: number,
  seed: number,
  label: (x1: number, x2: number, x3: number, c: number) => number,
) {
  const rng = createRng(seed);
  const x1 = new Float64Array(n);
  const x2 = new Float64Array(n);
  const x3 = new Float64Array(n);
  const codes = new Int32Array(n);
  const target = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x1[i] = rng.next();
    x2[i] = rng.next();
    x3[i] = rng.next() < 0.3 ? Number.NaN : rng.next();
    codes[i] = rng.next() < 0.05 ? -1 : Math.floor(rng.next() * 6);
    const p = label(x1[i]!, x2[i]!, x3[i]!, codes[i]!);
    target[i] = rng.next() < p ? 1 : 0;
  }
  const table: ColumnarTable = {
    rowCount: n,
    header: ['x1', 'x2', 'x3', 'c', 'CHURN'],
    columns: new Map([
      ['x1', { kind: 'numeric', name: 'x1', values: x1 }],
      ['x2', { kind: 'numeric', name: 'x2', values: x2 }],
      ['x3', { kind: 'numeric', name: 'x3', values: x3 }],
      ['c', { kind: 'categorical', name: 'c', codes, dictionary: ['a', 'b', 'c', 'd', 'e', 'f'] }],
    ]),
    target,
  };
  return table;
}

const FEATURES = [
  { name: 'x1', kind: 'numeric' },
  { name: 'x2', kind: 'numeric' },
  { name: 'x3', kind: 'numeric' },
  { name: 'c', kind: 'categorical' },
] as const;

async function fitAndScore(train: ColumnarTable, test: ColumnarTable, params: Partial<GbdtParams> = {}) {
  const p = { ...DEFAULT_GBDT_PARAMS, trees: 60, earlyStoppingRounds: 0, ...params };
  const encoders = fitEncoders(train, FEATURES, train.target!, undefined, createRng(1), {
    maxBins: p.maxBins,
  });
  const model = await trainGbdt(binTable(train, encoders), train.target!, undefined, p);
  const forest = compileForest(model.baseScore, model.trees, encoders);
  const columns = encoders.map((e) => {
    const col = test.columns.get(e.name)!;
    if (col.kind === 'numeric') return col.values;
    const rank = new Map(e.kind === 'categorical' ? e.categories.map((c, i) => [c, i + 1]) : []);
    return Float64Array.from(col.codes, (code) =>
      code < 0 ? Number.NaN : (rank.get(col.dictionary[code]!) ?? Number.NaN),
    );
  });
  const margins = new Float64Array(test.rowCount);
  scoreColumns(forest, columns, test.rowCount, margins);
  return { model, forest, margins, columns };
}

describe('trainGbdt', () => {
  it('learns an XOR of two thresholds (AUC close to the Bayes AUC)', async () => {
    const xor = (x1: number, x2: number) => (x1 > 0.5 !== x2 > 0.3 ? 0.9 : 0.1);
    const { margins } = await fitAndScore(makeTable(6000, 1, xor), makeTable(3000, 2, xor));
    const auc = rocAuc(makeTable(3000, 2, xor).target!, margins);
    assert.ok(auc > 0.88, `AUC ${auc}`); // Bayes AUC for 0.9/0.1 labels is 0.9
  });

  it('learns from missingness and a category; compiled scoring equals the training margins', async () => {
    const f = (_x1: number, _x2: number, x3: number, c: number) =>
      (Number.isNaN(x3) ? 0.8 : 0.1) * (c === 2 || c === 4 ? 1 : 0.3);
    const train = makeTable(8000, 3, f);
    const test = makeTable(3000, 4, f);
    const { margins } = await fitAndScore(train, test);
    const auc = rocAuc(test.target!, margins);
    assert.ok(auc > 0.8, `AUC ${auc}`);
    // Raw-threshold scoring (NaN, categories by rank, "is missing" splits) reproduces the bin-space
    // margins the trainer computed.
    const fitted = await fitAndScore(train, train);
    const encoders = fitEncoders(train, FEATURES, train.target!, undefined, createRng(1), { maxBins: 255 });
    const binned = binTable(train, encoders);
    const expected = new Float64Array(train.rowCount).fill(fitted.model.baseScore);
    for (const tree of fitted.model.trees) addTreeMargins(tree, binned, expected);
    for (let i = 0; i < train.rowCount; i++) {
      assert.ok(Math.abs(fitted.margins[i]! - expected[i]!) < 1e-9, `row ${i}`);
    }
    assert.ok(
      fitted.forest.threshold.some((t) => t === Number.POSITIVE_INFINITY),
      'an "is missing" split exists',
    );
  });

  it('is deterministic for a seed, whatever the thread count, and scoring agrees with training margins', async () => {
    const f = (x1: number, x2: number) => 1 / (1 + Math.exp(-(4 * x1 - 3 * x2)));
    const train = makeTable(60_000, 5, f);
    const params = { trees: 5, subsample: 0.8, colsample: 0.75, seed: 7 };
    const one = await fitAndScore(train, train, { ...params, threads: 1 });
    const two = await fitAndScore(train, train, { ...params, threads: 2 });
    assert.deepEqual(two.model.trees, one.model.trees);
    const three = await fitAndScore(train, train, { ...params, threads: 3 });
    assert.deepEqual(three.model.trees, one.model.trees);
    const other = await fitAndScore(train, train, { ...params, seed: 8, threads: 1 });
    assert.notDeepEqual(other.model.trees, one.model.trees);
    // One record at a time gives the same margins as the batch.
    const x = new Float64Array(4);
    for (const row of [0, 1, 17, 59_999]) {
      for (let f2 = 0; f2 < 4; f2++) x[f2] = one.columns[f2]![row]!;
      assert.equal(scoreVector(one.forest, x), one.margins[row]);
    }
  });

  it('updates margins the same by leaf ranges (all rows sampled) as by walking the tree (sampled rows)', async () => {
    // A sample share of 1 - 2^-32 takes the tree-walk path yet, for these rows, keeps every row.
    const f = (x1: number, _x2: number, x3: number) => (Number.isNaN(x3) ? 0.6 : x1 > 0.4 ? 0.8 : 0.2);
    const train = makeTable(50_000, 12, f);
    for (const threads of [1, 2]) {
      const ranges = await fitAndScore(train, train, { trees: 8, threads });
      const walked = await fitAndScore(train, train, { trees: 8, threads, subsample: 1 - 2 ** -32 });
      assert.deepEqual(walked.model.trees, ranges.model.trees, `${threads} thread(s)`);
    }
  });

  it('draws about the asked share of rows per tree, a different sample each round', async () => {
    const rows = 200_000;
    const below = Math.floor(0.3 * 2 ** 32);
    const kept = (round: number) => {
      const out = new Uint8Array(rows);
      for (let i = 0; i < rows; i++) out[i] = sampleHash(7, round, i) < below ? 1 : 0;
      return out;
    };
    const a = kept(0);
    const b = kept(1);
    let inA = 0;
    let inBoth = 0;
    for (let i = 0; i < rows; i++) {
      inA += a[i]!;
      inBoth += a[i]! & b[i]!;
    }
    assert.ok(Math.abs(inA / rows - 0.3) < 0.005, `share ${inA / rows}`);
    // Independent rounds: about 0.3 * 0.3 of the rows are in both samples.
    assert.ok(Math.abs(inBoth / rows - 0.09) < 0.005, `overlap ${inBoth / rows}`);
    assert.notEqual(sampleHash(8, 0, 5), sampleHash(7, 0, 5));
  });

  it('stops early on a validation slice and keeps the best round', async () => {
    const f = (x1: number) => (x1 > 0.5 ? 0.7 : 0.3);
    const train = makeTable(3000, 9, f);
    const valid = makeTable(2000, 10, f);
    const p = { ...DEFAULT_GBDT_PARAMS, trees: 300, earlyStoppingRounds: 10, learningRate: 0.3 };
    const encoders = fitEncoders(train, FEATURES, train.target!, undefined, createRng(1), { maxBins: 255 });
    const model = await trainGbdt(
      binTable(train, encoders),
      train.target!,
      {
        matrix: binTable(valid, encoders),
        target: valid.target!,
      },
      p,
    );
    assert.ok(model.validationLogLoss.length < 300, 'stopped early');
    assert.equal(model.trees.length, model.bestIteration + 1);
    const best = Math.min(...model.validationLogLoss);
    assert.equal(model.validationLogLoss[model.bestIteration], best);
  });
});
