import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categoricalColumn, numericColumn } from '../../data/columnar-table.js';
import { expressoLayout } from '../store-layout.js';
import { assembleColumns, compareIds } from './assemble-columns.js';
import { decodeBlock, encodeBlock, runFromRows } from './column-block.js';

const layout = expressoLayout();

/** A read row (up to id): every numeric feature = createdAt / 10, REGION from `region`. */
function row(id: string, createdAt: number, version: string, region: string | null, label: 0 | 1 | null) {
  return [
    createdAt,
    createdAt / 1000,
    createdAt % 2,
    label,
    label === null ? null : createdAt + 1,
    version,
    ...layout.numeric.map((_, f) => (f === 0 ? null : createdAt / 10)),
    region,
    null,
    'NO',
    null,
    id,
  ];
}

/** Stored and read back, as readColumns gets a sealed block. */
function viaBlock(rows: unknown[][]) {
  const run = runFromRows(rows, layout);
  const stored = encodeBlock(run);
  const ids = run.ids();
  return decodeBlock(
    rows.length,
    { numeric: layout.numeric.length, categorical: layout.categorical.length },
    { ...stored, firstId: ids[0]!, lastId: ids.at(-1)! },
    layout,
    () => stored.ids,
  );
}

describe('compareIds', () => {
  it('orders ids as SQLite does (UTF-8 bytes = code points), not by UTF-16 units', () => {
    assert.ok(compareIds('a', 'b') < 0);
    assert.ok(compareIds('ab', 'a') > 0);
    assert.equal(compareIds('x', 'x'), 0);
    // U+1F600 is above U+FFFD in code point order; its UTF-16 lead unit 0xD83D is below 0xFFFD.
    assert.ok(compareIds('\u{1F600}', '\uFFFD') > 0);
    assert.ok('\u{1F600}' < '\uFFFD');
  });
});

describe('assembleColumns', () => {
  const a = viaBlock([
    row('a1', 100, 'v1', 'DAKAR', 1),
    row('a2', 200, 'v2', null, null),
    row('a3', 300, 'v1', 'THIES', 0),
  ]);
  // Overlaps a: a late row at 200 whose id sorts before a2, and one at 250.
  const late = runFromRows([row('a0', 200, 'v1', 'LOUGA', null), row('b1', 250, 'v2', 'DAKAR', 1)], layout);
  const tail = runFromRows([row('c1', 400, 'v1', 'THIES', null)], layout);

  it('stitches runs in (createdAt, id) order, merging the ones that overlap', () => {
    const columns = assembleColumns([tail, late, a], layout);
    assert.equal(columns.rowCount, 6);
    assert.deepEqual(Array.from(columns.createdAt), [100, 200, 200, 250, 300, 400]);
    assert.deepEqual(Array.from(columns.score), [0.1, 0.2, 0.2, 0.25, 0.3, 0.4]);
    assert.deepEqual(Array.from(columns.label), [1, -1, -1, 1, 0, -1]);
    assert.deepEqual(
      Array.from(columns.labelObservedAt).map((t) => (Number.isNaN(t) ? null : t)),
      [101, null, null, 251, 301, null],
    );
    assert.deepEqual(Array.from(columns.predictedClass), [0, 0, 0, 0, 0, 0]);
    const versions = Array.from(columns.modelVersion.codes, (c) => columns.modelVersion.dictionary[c]);
    assert.deepEqual(versions, ['v1', 'v1', 'v2', 'v2', 'v1', 'v1']);
    // Dictionaries in order of first appearance in the output; -1 for missing.
    const region = categoricalColumn(columns.features, 'REGION');
    assert.deepEqual(region.dictionary, ['DAKAR', 'LOUGA', 'THIES']);
    assert.deepEqual(Array.from(region.codes), [0, 1, -1, 0, 2, 2]);
    const first = numericColumn(columns.features, layout.numeric[0]!.feature);
    assert.ok(Array.from(first.values).every(Number.isNaN));
    const second = numericColumn(columns.features, layout.numeric[1]!.feature);
    assert.deepEqual(Array.from(second.values), [10, 20, 20, 25, 30, 40]);
  });

  it('applies the time range, the model version and the newest-limit start key', () => {
    const range = assembleColumns([a, late, tail], layout, { from: 200, to: 400 });
    assert.deepEqual(Array.from(range.createdAt), [200, 200, 250, 300]);
    const v2 = assembleColumns([a, late, tail], layout, { modelVersion: 'v2' });
    assert.deepEqual(Array.from(v2.createdAt), [200, 250]);
    assert.deepEqual(v2.modelVersion.dictionary, ['v2']);
    // The newest 4 start at key (200, a2): a0 at the same time but a smaller id is left out.
    const newest = assembleColumns([a, late, tail], layout, { start: [200, 'a2'], limit: 4 });
    assert.deepEqual(Array.from(newest.createdAt), [200, 250, 300, 400]);
    assert.deepEqual(Array.from(newest.label), [-1, 1, 0, -1]);
    assert.equal(assembleColumns([a], layout, { modelVersion: 'v9' }).rowCount, 0);
    assert.equal(assembleColumns([], layout).rowCount, 0);
  });
});
