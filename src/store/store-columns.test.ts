import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prediction } from './prediction-store.contract.js';
import {
  concatRows,
  EXPRESSO_ROWS,
  insertParameters,
  insertValue,
  rowLayout,
  sliceRows,
  toPredictionRows,
} from './store-columns.js';

const records = [
  prediction('a', 1000, { score: 0.75, predictedClass: 1 }),
  prediction('b', 2000, { userId: null, features: { MONTANT: 0, TOP_PACK: '', REGION: null } }),
  prediction('c', 3000, { features: { MONTANT: Number.NaN, FREQUENCE: '12.5', TENURE: 'K > 24 month' } }),
];

const NAMES = EXPRESSO_ROWS.names;

/** Every row of some PredictionRows as insert value lists. */
const rowsOf = (rows: ReturnType<typeof toPredictionRows>) =>
  Array.from({ length: rows.count }, (_, r) => NAMES.map((_, c) => insertValue(EXPRESSO_ROWS, rows, r, c)));

describe('PredictionRows', () => {
  it('packs records into numbers and texts and gives back the same parameters, nulls included', () => {
    const rows = toPredictionRows(records);
    assert.equal(rows.count, 3);
    const params = rowsOf(rows);
    const column = (name: string) => params.map((p) => p[NAMES.indexOf(name)]);
    assert.deepEqual(column('id'), ['a', 'b', 'c']);
    assert.deepEqual(column('user_id'), ['user-a', null, 'user-c']);
    assert.deepEqual(column('score'), [0.75, 0.25, 0.25]);
    assert.deepEqual(column('predicted_class'), [1, 0, 0]);
    // 0 and '' are values, not missing; NaN is missing; a numeric string is parsed.
    assert.deepEqual(column('MONTANT'), [records[0]!.features.MONTANT, 0, null]);
    assert.deepEqual(column('TOP_PACK'), [records[0]!.features.TOP_PACK, '', null]);
    assert.deepEqual(column('REGION'), [records[0]!.features.REGION, null, null]);
    assert.equal(column('FREQUENCE')[2], 12.5);
    assert.deepEqual(params[0], insertParameters(records[0]!));
  });

  it('slices and concatenates rows in order', () => {
    const rows = toPredictionRows(records);
    const parts = [sliceRows(rows, 0, 1), sliceRows(rows, 1, 1), sliceRows(rows, 1, 3)];
    assert.deepEqual(
      parts.map((p) => p.count),
      [1, 0, 2],
    );
    assert.deepEqual(rowsOf(concatRows(parts)), rowsOf(rows));
    assert.deepEqual(rowsOf(concatRows([parts[2]!, parts[0]!])), [
      ...rowsOf(parts[2]!),
      ...rowsOf(parts[0]!),
    ]);
  });

  it('refuses a bad record and packs none', () => {
    assert.throws(
      () => toPredictionRows([records[0]!, { ...records[1]!, score: Number.NaN }]),
      /score must be finite/,
    );
    assert.throws(() => toPredictionRows([{ ...records[0]!, id: '' }]), /non-empty string/);
    assert.throws(
      () => toPredictionRows([{ ...records[0]!, features: { MONTANT: 'lots' } }]),
      /MONTANT must be a number or null/,
    );
  });
});

describe('RowLayout', () => {
  it("packs any schema's features, numeric ones first, and refuses a feature named twice", () => {
    const layout = rowLayout([
      { name: 'plan', kind: 'categorical' },
      { name: 'monthly charges', kind: 'numeric' },
      { name: 'score', kind: 'numeric' },
    ]);
    assert.deepEqual(layout.names.slice(6), ['monthly charges', 'score', 'plan']);
    assert.deepEqual(layout.given, ['plan', 'monthly charges', 'score']);
    assert.deepEqual([layout.numberWidth, layout.textWidth], [5, 4]);
    const rows = toPredictionRows(
      [{ ...records[0]!, score: 0.5, features: { plan: 'gold', 'monthly charges': 70.5, score: null } }],
      layout,
    );
    assert.deepEqual(
      layout.names.map((_, c) => insertValue(layout, rows, 0, c)),
      ['a', 1000, 'user-a', 'v1', 0.5, 1, 70.5, null, 'gold'],
    );
    assert.throws(
      () =>
        rowLayout([
          { name: 'x', kind: 'numeric' },
          { name: 'x', kind: 'categorical' },
        ]),
      /"x" is named twice/,
    );
  });
});
