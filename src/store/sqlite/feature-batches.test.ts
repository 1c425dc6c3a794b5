import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FeatureSpec } from '../../data/feature-types.js';
import { EXPRESSO_COLUMNS, type FeatureColumn } from '../feature-registry.js';
import { prediction } from '../prediction-store.contract.js';
import { EXPRESSO_FEATURES, EXPRESSO_ROWS, rowLayout } from '../row-layout.js';
import { toPredictionRows } from '../store-columns.js';
import { expressoLayout, storeLayout } from '../store-layout.js';
import { decodeFeatureColumns, encodeFeatureColumns, type FeatureColumns } from './column-block.js';
import { featureColumns } from './feature-batches.js';

const EXTRA: FeatureSpec[] = [
  { name: 'EXTRA', kind: 'numeric' },
  { name: 'CAT', kind: 'categorical' },
];
const EXTRA_COLUMNS: FeatureColumn[] = [
  { feature: 'EXTRA', column: 'f_extra', kind: 'numeric' },
  { feature: 'CAT', column: 'f_cat', kind: 'categorical' },
];
/** Expresso's registry with a numeric and a categorical feature registered after it. */
const wide = storeLayout(
  [...EXPRESSO_COLUMNS, ...EXTRA_COLUMNS],
  rowLayout([...EXPRESSO_FEATURES, ...EXTRA]),
);
const narrow = expressoLayout();
/** Expresso's model on a file where another model registered those two. */
const expressoOnWide = storeLayout([...EXPRESSO_COLUMNS, ...EXTRA_COLUMNS], EXPRESSO_ROWS);

function roundTrip(
  columns: FeatureColumns,
  shape: { numeric: number; categorical: number },
  layout = narrow,
) {
  return decodeFeatureColumns(
    columns.rowCount,
    shape,
    encodeFeatureColumns(columns),
    JSON.stringify(columns.dictionaries),
    layout,
  );
}

describe('feature batches', () => {
  const records = [0, 1, 2].map((i) => {
    const p = prediction(`p${i}`, 1000 + i);
    return { ...p, features: { ...p.features, MONTANT: i ? i : null, REGION: i === 1 ? null : `r${i}` } };
  });

  it('packs the registered features of rows, missing where the model lacks one, and reads them back', () => {
    const columns = featureColumns(expressoOnWide, toPredictionRows(records));
    assert.equal(columns.numeric.length, 14);
    assert.equal(columns.categorical.length, 5);
    assert.deepEqual(Array.from(columns.numeric[0]!), [Number.NaN, 1, 2]);
    assert.deepEqual(Array.from(columns.numeric[13]!), [Number.NaN, Number.NaN, Number.NaN]);
    assert.deepEqual(Array.from(columns.categorical[4]!), [-1, -1, -1]);
    const back = roundTrip(columns, { numeric: 14, categorical: 5 }, wide);
    assert.deepEqual(
      back.numeric.map((c) => Array.from(c)),
      columns.numeric.map((c) => Array.from(c)),
    );
    assert.deepEqual(
      back.categorical.map((c) => Array.from(c)),
      columns.categorical.map((c) => Array.from(c)),
    );
    assert.deepEqual(back.dictionaries, columns.dictionaries);
  });

  it('reads features registered after the batch as missing, and leaves out those the reader does not know', () => {
    const old = featureColumns(narrow, toPredictionRows(records));
    const grown = roundTrip(old, { numeric: 13, categorical: 4 }, wide);
    assert.deepEqual(Array.from(grown.numeric[13]!), [Number.NaN, Number.NaN, Number.NaN]);
    assert.deepEqual(Array.from(grown.categorical[4]!), [-1, -1, -1]);
    assert.deepEqual(grown.dictionaries[4], []);
    assert.deepEqual(Array.from(grown.numeric[0]!), [Number.NaN, 1, 2]);
    const region = grown.categorical[0]!;
    assert.deepEqual(
      Array.from(region, (c) => (c < 0 ? null : grown.dictionaries[0]![c])),
      ['r0', null, 'r2'],
    );
    const shrunk = roundTrip(
      featureColumns(wide, toPredictionRows(records, wide.rows)),
      { numeric: 14, categorical: 5 },
      narrow,
    );
    assert.equal(shrunk.numeric.length, 13);
    assert.equal(shrunk.categorical.length, 4);
    assert.deepEqual(Array.from(shrunk.numeric[1]!), Array.from(old.numeric[1]!));
    assert.deepEqual(Array.from(shrunk.categorical[3]!), Array.from(old.categorical[3]!));
  });

  it('refuses a BLOB of the wrong size', () => {
    const columns = featureColumns(narrow, toPredictionRows(records));
    assert.throws(() => roundTrip(columns, { numeric: 14, categorical: 4 }), /feature batch data holds/);
  });
});
