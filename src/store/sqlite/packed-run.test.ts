import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXPRESSO_COLUMNS } from '../feature-registry.js';
import type { PredictionRecord } from '../prediction-store.js';
import { EXPRESSO_ROWS, toPredictionRows, userKey } from '../store-columns.js';
import { READ_CREATED_AT, READ_LABEL, READ_LABEL_OBSERVED_AT, storeLayout } from '../store-layout.js';
import { compareIds } from './assemble-columns.js';
import { type ColumnRun, runFromRows } from './column-block.js';
import { type PackedRows, sortedRunFromPacked } from './packed-run.js';
import { sealRow, sealRowid, sealUserKey } from './seal-row.js';

// A registry with a numeric and a categorical feature the rows lack (another model's): read as missing.
const layout = storeLayout(
  [
    ...EXPRESSO_COLUMNS,
    { feature: 'tenure months', column: 'f_tenure_months', kind: 'numeric' },
    { feature: 'Contract', column: 'f_contract', kind: 'categorical' },
  ],
  EXPRESSO_ROWS,
);

function record(i: number, createdAt: number, id: string): PredictionRecord {
  return {
    id,
    createdAt,
    userId: i % 3 === 0 ? null : `user-${i % 7}`,
    modelVersion: i % 4 === 0 ? 'v2' : 'v1',
    score: (i % 10) / 10,
    predictedClass: i % 2 === 0 ? 1 : 0,
    features: {
      REGION: i % 5 === 0 ? null : ['DAKAR', 'THIES', 'LOUGA'][i % 3]!,
      TENURE: 'K > 24 month',
      MONTANT: i % 6 === 0 ? null : i * 100.5,
      FREQUENCE_RECH: i,
      REVENUE: Number.NaN,
      TOP_PACK: i % 2 ? 'On net 200F=Unlimited _call24H' : null,
    },
  };
}

/** Two inserts' parts; times out of order, and ties on time whose ids sort against rowid order. */
function parts(firstRowid: number): PackedRows[] {
  const a = [record(0, 300, 'id-c'), record(1, 100, 'id-b'), record(2, 100, 'id-a'), record(3, 200, 'é-1')];
  const b = [
    record(4, 100, 'id-0'),
    record(5, 400, 'id-d'),
    record(6, 50, '\u{1F600}'),
    record(7, 50, '\uFFFD'),
  ];
  let next = firstRowid;
  return [a, b].map((records) => {
    const rows = toPredictionRows(records, EXPRESSO_ROWS);
    const keys = new Float64Array(records.map((r) => (r.userId === null ? Number.NaN : userKey(r.userId))));
    const packed = { layout, rows, keys, firstRowid: next };
    next += records.length;
    return packed;
  });
}

/** What the seal-row path makes of the same rows: seal rows, labels patched, sorted, runFromRows. */
function viaSealRows(packed: readonly PackedRows[], labels: Map<number, readonly [number, number | null]>) {
  const rows: unknown[][] = [];
  for (const p of packed)
    for (let k = 0; k < p.rows.count; k++) {
      const key = p.keys[k]!;
      rows.push(sealRow(layout, p.rows, k, p.firstRowid + k, Number.isNaN(key) ? null : key));
    }
  labels.forEach(([label, observedAt], i) => {
    rows[i]![READ_LABEL] = label;
    rows[i]![READ_LABEL_OBSERVED_AT] = observedAt;
  });
  const order = rows.map((_, i) => i);
  order.sort(
    (i, j) =>
      (rows[i]![READ_CREATED_AT] as number) - (rows[j]![READ_CREATED_AT] as number) ||
      compareIds(rows[i]![layout.readId] as string, rows[j]![layout.readId] as string),
  );
  const sorted = order.map((i) => rows[i]!);
  return {
    run: runFromRows(sorted, layout),
    rowids: sorted.map((r) => r[sealRowid(layout)]),
    keys: sorted.map((r) => r[sealUserKey(layout)]),
    order,
  };
}

const plain = (run: ColumnRun) => ({
  f64: run.f64.map((c) => [...c]),
  codes: run.codes.map((c) => [...c]),
  dictionaries: run.dictionaries,
  predictedClass: [...run.predictedClass],
  label: [...run.label],
  labelObservedAt: [...run.labelObservedAt],
  ids: run.ids(),
});

describe('sortedRunFromPacked', () => {
  it('makes the run the seal-row path makes: key order, codes, missing features, labels, keys', () => {
    const packed = parts(41);
    const labels = new Map<number, readonly [number, number | null]>([
      [1, [1, 900]],
      [6, [0, 950]],
    ]);
    const expected = viaSealRows(packed, labels);
    // One segment per part, as the tail hands them over.
    const got = sortedRunFromPacked(
      [
        { packed: packed[0]!, from: 0, count: 4 },
        { packed: packed[1]!, from: 0, count: 4 },
      ],
      layout,
      labels,
    );
    assert.ok(got);
    assert.deepEqual(plain(got.run), plain(expected.run));
    assert.deepEqual([...got.rowids], expected.rowids);
    assert.deepEqual(got.keys, expected.keys);
    // Row i in rowid order went to sorted position rowOrder[i].
    const rowOrder = [...got.rowOrder!];
    assert.deepEqual(
      expected.order.map((i) => rowOrder[i]),
      expected.order.map((_, k) => k),
    );
    // The registered features the rows lack are missing in every row.
    const extraNumeric = got.run.f64.at(-1)!;
    assert.ok([...extraNumeric].every(Number.isNaN));
    assert.ok([...got.run.codes.at(-1)!].every((c) => c === -1));
  });

  it('takes a segment from the middle of a part and leaves rows already in order unpermuted', () => {
    const [first] = parts(1);
    const inOrder = toPredictionRows(
      [record(1, 10, 'a'), record(2, 20, 'b'), record(3, 20, 'c'), record(4, 30, 'd')],
      EXPRESSO_ROWS,
    );
    const packed: PackedRows = { ...first!, rows: inOrder, keys: new Float64Array(4).fill(Number.NaN) };
    const got = sortedRunFromPacked([{ packed, from: 1, count: 2 }], layout, new Map());
    assert.ok(got);
    assert.equal(got.rowOrder, null);
    assert.deepEqual(got.run.ids(), ['b', 'c']);
    assert.deepEqual([...got.rowids], [2, 3]);
    assert.deepEqual(got.keys, [null, null]);
  });

  it('declines rows packed in another layout (the caller then seals from seal rows)', () => {
    const [first] = parts(1);
    const other = storeLayout(EXPRESSO_COLUMNS, EXPRESSO_ROWS);
    assert.equal(sortedRunFromPacked([{ packed: first!, from: 0, count: 4 }], other, new Map()), undefined);
  });
});
