import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Column, ColumnarTable } from '../data/columnar-table.js';
import { createRng } from '../data/rng.js';
import { blockScratch, compileBinnedForest, scoreBinnedOne } from './binned-scoring.js';
import { type CompiledForest, compileForest, scoreVector } from './compiled-forest.js';
import { binTable, type FeatureEncoder, fitEncoders } from './feature-encoder.js';
import { DEFAULT_GBDT_PARAMS, trainGbdt } from './gbdt.js';
import { type ModelParts, referenceTableMargins, tableMargins } from './gbdt-churn-model.js';
import { createScoringPool, type ScoringPool } from './parallel-scoring.js';
import { takeRows } from './table-rows.js';

const FEATURES = [
  { name: 'x1', kind: 'numeric' },
  { name: 'x2', kind: 'numeric' },
  { name: 'x3', kind: 'numeric' },
  { name: 'c', kind: 'categorical' },
] as const;

/** x1 continuous, x2 with few distinct values, x3 missing 30 % of the time, c one of 8 categories. */
function makeTable(n: number, seed: number, dictionary: readonly string[]): ColumnarTable {
  const rng = createRng(seed);
  const x1 = new Float64Array(n);
  const x2 = new Float64Array(n);
  const x3 = new Float64Array(n);
  const codes = new Int32Array(n);
  const target = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x1[i] = rng.next() * 100 - 50;
    x2[i] = Math.floor(rng.next() * 7);
    x3[i] = rng.next() < 0.3 ? Number.NaN : rng.next();
    codes[i] = rng.next() < 0.05 ? -1 : Math.floor(rng.next() * dictionary.length);
    const z = 0.05 * x1[i]! - 0.4 * x2[i]! + (Number.isNaN(x3[i]!) ? 1.5 : x3[i]!) + (codes[i]! % 3) - 1;
    target[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return {
    rowCount: n,
    header: ['x1', 'x2', 'x3', 'c', 'CHURN'],
    columns: new Map([
      ['x1', { kind: 'numeric', name: 'x1', values: x1 }],
      ['x2', { kind: 'numeric', name: 'x2', values: x2 }],
      ['x3', { kind: 'numeric', name: 'x3', values: x3 }],
      ['c', { kind: 'categorical', name: 'c', codes, dictionary }],
    ]),
    target,
  };
}

const TRAIN_CATEGORIES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/** Rows the training never saw: missing everywhere, unseen categories, values outside every bin, bounds exactly. */
function awkwardTable(encoders: readonly FeatureEncoder[]): ColumnarTable {
  const base = makeTable(4000, 99, [...TRAIN_CATEGORIES, 'never-seen', 'zz']);
  const x1 = (base.columns.get('x1') as { values: Float64Array }).values;
  const x2 = (base.columns.get('x2') as { values: Float64Array }).values;
  const x3 = (base.columns.get('x3') as { values: Float64Array }).values;
  const bounds = (encoders[0] as { upperBounds: readonly number[] }).upperBounds;
  const specials = [
    Number.NaN,
    -1e300,
    1e300,
    -0,
    0,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.NEGATIVE_INFINITY,
    Number.POSITIVE_INFINITY,
  ];
  for (let i = 0; i < base.rowCount; i++) {
    if (i % 5 === 0) x1[i] = specials[(i / 5) % specials.length]!;
    if (i % 5 === 1) x1[i] = bounds[i % bounds.length]!; // exactly on a bin boundary
    if (i % 5 === 2) x1[i] = bounds[i % bounds.length]! + 1e-9;
    if (i % 7 === 0) x2[i] = specials[(i / 7) % specials.length]!;
    if (i % 11 === 0) x3[i] = specials[(i / 11) % specials.length]!;
  }
  return base;
}

let parts: ModelParts;
let pool: ScoringPool;

before(async () => {
  const train = makeTable(20_000, 1, TRAIN_CATEGORIES);
  const params = { ...DEFAULT_GBDT_PARAMS, trees: 40, maxDepth: 6, maxLeaves: 20, earlyStoppingRounds: 0 };
  const encoders = fitEncoders(train, FEATURES, train.target!, undefined, createRng(1), { maxBins: 256 });
  const model = await trainGbdt(binTable(train, encoders), train.target!, undefined, params);
  const forest = compileForest(model.baseScore, model.trees, encoders);
  parts = { encoders, forest, calibrator: { method: 'identity', a: 1, b: 0 } };
  pool = await createScoringPool({ threads: 2, minRows: 1000, chunkRows: 64 });
});

after(async () => {
  await pool.close();
});

/** Row i of a table as scoreVector takes it: numbers as given, categories by rank, NaN for missing or unseen. */
function rowValues(
  encoders: readonly FeatureEncoder[],
  table: ColumnarTable,
  i: number,
  x: Float64Array,
): void {
  encoders.forEach((e, f) => {
    const column = table.columns.get(e.name)!;
    if (column.kind === 'numeric') x[f] = column.values[i]!;
    else {
      const code = column.codes[i]!;
      const rank = code < 0 || e.kind !== 'categorical' ? -1 : e.categories.indexOf(column.dictionary[code]!);
      x[f] = rank < 0 ? Number.NaN : rank + 1;
    }
  });
}

/** The per-record reference: a dense vector per row, categories by rank, NaN for missing or unseen. */
function vectorMargins(forest: CompiledForest, encoders: readonly FeatureEncoder[], table: ColumnarTable) {
  const out = new Float64Array(table.rowCount);
  const x = new Float64Array(encoders.length);
  for (let i = 0; i < table.rowCount; i++) {
    rowValues(encoders, table, i, x);
    out[i] = scoreVector(forest, x);
  }
  return out;
}

function assertSameBits(actual: Float64Array, expected: Float64Array, what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${what}: row ${i}: ${actual[i]} !== ${expected[i]}`);
  }
}

describe('bin-space batch scoring', () => {
  it('compiles a forest with shallow leaves, "is missing" splits and missing-right splits', () => {
    const binned = compileBinnedForest(parts.forest, parts.encoders);
    assert.ok(binned, 'the forest is exactly representable in bin space');
    const { forest } = parts;
    assert.ok([...forest.threshold].includes(Number.POSITIVE_INFINITY), 'an "is missing" split exists');
    assert.ok(
      [...forest.feature].some((f, k) => f >= 0 && forest.defaultLeft[k] === 0),
      'a split sends missing values right',
    );
    assert.ok(binned.depth.some((d) => d === 6) && binned.leaf.length > forest.feature.length / 2);
  });

  it('equals the reference paths bit for bit on missing, unseen and out-of-range values', async () => {
    const table = awkwardTable(parts.encoders);
    const fast = tableMargins(parts, table);
    assertSameBits(fast, vectorMargins(parts.forest, parts.encoders, table), 'fast vs scoreVector');
    // The raw-threshold batch path agrees wherever no +∞ is fed in (CSV input never holds one).
    const finite = makeTable(5000, 7, [...TRAIN_CATEGORIES, 'unseen']);
    assertSameBits(tableMargins(parts, finite), referenceTableMargins(parts, finite), 'fast vs raw batch');
    assertSameBits(await pool.margins(parts, table), fast, 'two threads vs one');
  });

  it('scores one row at a time (scoreBinnedOne) bit for bit as scoreVector, reusing one buffer', () => {
    const binned = compileBinnedForest(parts.forest, parts.encoders)!;
    const table = awkwardTable(parts.encoders);
    const expected = vectorMargins(parts.forest, parts.encoders, table);
    const categorical = Uint8Array.from(parts.encoders, (e) => (e.kind === 'categorical' ? 1 : 0));
    const scratch = blockScratch(binned);
    const x = new Float64Array(parts.encoders.length);
    const got = new Float64Array(table.rowCount);
    for (let i = 0; i < table.rowCount; i++) {
      rowValues(parts.encoders, table, i, x);
      got[i] = scoreBinnedOne(binned, x, categorical, scratch);
    }
    assertSameBits(got, expected, 'one row vs scoreVector');
  });

  it('bins on the used thresholds only, exactly, for any row count', async () => {
    // 200 training bounds, but the forest splits on three of them and on "is missing" (+∞).
    const bounds = Array.from({ length: 200 }, (_, j) => j * 0.5 - 20);
    const encoders: FeatureEncoder[] = [
      { kind: 'numeric', name: 'a', upperBounds: bounds },
      { kind: 'categorical', name: 'c', categories: ['p', 'q', 'r', 's'] },
    ];
    const inf = Number.POSITIVE_INFINITY;
    // Children of node k are left[k] and left[k] + 1; -1 marks a leaf.
    const nodes: [feature: number, threshold: number, defaultLeft: number, left: number, value: number][] = [
      [0, bounds[50]!, 0, 1, 0], // tree 0: a <= bounds[50], missing right
      [0, bounds[10]!, 1, 3, 0], //   a <= bounds[10], missing left
      [1, 2, 0, 5, 0], //   c <= q, missing and unseen right
      [-1, 0, 0, -1, 0.5],
      [-1, 0, 0, -1, -0.25],
      [-1, 0, 0, -1, 0.125],
      [-1, 0, 0, -1, -1],
      [0, inf, 0, 8, 0], // tree 1 (node 7): a is missing?
      [-1, 0, 0, -1, 0.03],
      [-1, 0, 0, -1, -0.7],
      [-1, 0, 0, -1, 0.001], // tree 2 (node 10): a single leaf
      [1, 3, 1, 12, 0], // tree 3 (node 11): c <= r, missing left
      [0, bounds[199]!, 1, 14, 0], //   a <= the last bound
      [-1, 0, 0, -1, 2], //   a leaf above the bottom
      [-1, 0, 0, -1, 0.3],
      [-1, 0, 0, -1, -0.3],
    ];
    const forest: CompiledForest = {
      featureCount: 2,
      baseScore: -0.1,
      roots: Int32Array.from([0, 7, 10, 11]),
      feature: Int32Array.from(nodes, (n) => n[0]),
      threshold: Float64Array.from(nodes, (n) => n[1]),
      defaultLeft: Uint8Array.from(nodes, (n) => n[2]),
      left: Int32Array.from(nodes, (n) => n[3]),
      right: Int32Array.from(nodes, (n) => (n[3] < 0 ? -1 : n[3] + 1)),
      value: Float64Array.from(nodes, (n) => n[4]),
    };
    const binned = compileBinnedForest(forest, encoders);
    assert.ok(binned);
    assert.deepEqual([...binned.bounds[0]!], [bounds[10], bounds[50], bounds[199]]);
    const specials = [Number.NaN, -inf, inf, -0, 0, -1e300, 1e300, 1e-300];
    // 1003 rows: not a multiple of the block, of the eight rows walked together or of four binned together.
    const n = 1003;
    const a = Float64Array.from({ length: n }, (_, i) => {
      const j = (i * 7) % bounds.length;
      return [specials[i % specials.length]!, bounds[j]!, bounds[j]! + 1e-9, bounds[j]! - 1e-9][i % 4]!;
    });
    const dictionary = ['s', 'never-seen', 'p', 'r', 'q'];
    const codes = Int32Array.from({ length: n }, (_, i) => (i % 7) - 1);
    const table: ColumnarTable = {
      rowCount: n,
      header: ['a', 'c'],
      columns: new Map<string, Column>([
        ['a', { kind: 'numeric', name: 'a', values: a }],
        ['c', { kind: 'categorical', name: 'c', codes, dictionary }],
      ]),
    };
    const small = { encoders, forest, calibrator: parts.calibrator };
    const expected = vectorMargins(forest, encoders, table);
    assertSameBits(tableMargins(small, table), expected, 'used thresholds vs scoreVector');
    assertSameBits(await pool.margins(small, table), expected, 'two threads vs scoreVector');
    for (const rows of [1, 3, 4, 9, 255, 257]) {
      const part = takeRows(
        table,
        Uint32Array.from({ length: rows }, (_, i) => i),
      );
      assertSameBits(tableMargins(small, part), expected.subarray(0, rows), `${rows} rows`);
    }
  });

  it("reuses the pool's shared buffers across calls, and not while a call holds them", async () => {
    const big = makeTable(6000, 11, [...TRAIN_CATEGORIES, 'unseen']);
    const small = makeTable(2500, 12, TRAIN_CATEGORIES);
    const withoutX3: ColumnarTable = {
      ...small,
      columns: new Map([...small.columns].filter(([name]) => name !== 'x3')),
    };
    assertSameBits(await pool.margins(parts, big), tableMargins(parts, big), 'first call');
    // A smaller table after a bigger one, its absent column in a buffer that held values before.
    assertSameBits(await pool.margins(parts, withoutX3), tableMargins(parts, withoutX3), 'reused buffers');
    const [a, b] = await Promise.all([pool.margins(parts, big), pool.margins(parts, small)]);
    assertSameBits(a, tableMargins(parts, big), 'concurrent call 1');
    assertSameBits(b, tableMargins(parts, small), 'concurrent call 2');
  });

  it('scores a table without a feature column as if that feature were missing everywhere', () => {
    const table = makeTable(3000, 5, TRAIN_CATEGORIES);
    const without: ColumnarTable = {
      ...table,
      columns: new Map([...table.columns].filter(([name]) => name !== 'x3')),
    };
    const missing = new Map(table.columns);
    missing.set('x3', { kind: 'numeric', name: 'x3', values: new Float64Array(3000).fill(Number.NaN) });
    assertSameBits(
      tableMargins(parts, without),
      tableMargins(parts, { ...table, columns: missing }),
      'absent',
    );
  });

  it('falls back to the raw-threshold path when a threshold is not a bin boundary', () => {
    const edited: CompiledForest = {
      ...parts.forest,
      threshold: parts.forest.threshold.map((t) => t + 0.001),
    };
    assert.equal(compileBinnedForest(edited, parts.encoders), undefined);
    const table = makeTable(2000, 3, TRAIN_CATEGORIES);
    const editedParts = { ...parts, forest: edited };
    assertSameBits(tableMargins(editedParts, table), referenceTableMargins(editedParts, table), 'fallback');
  });

  it('rejects a column of the wrong kind, naming it', () => {
    const table = makeTable(100, 2, TRAIN_CATEGORIES);
    const columns = new Map(table.columns);
    columns.set('c', { kind: 'numeric', name: 'c', values: new Float64Array(100) });
    assert.throws(() => tableMargins(parts, { ...table, columns }), /column c must be categorical/);
  });
});
