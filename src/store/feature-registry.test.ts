import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isChurnwatchError } from '../errors.js';
import {
  columnNameFor,
  EXPRESSO_COLUMNS,
  MAX_FEATURE_COLUMNS,
  newFeatureColumns,
  registeredColumns,
  sqlIdentifier,
} from './feature-registry.js';

const none = new Set<string>();
const numeric = (name: string) => ({ name, kind: 'numeric' as const });

describe('feature column names', () => {
  it('fold any name to a safe identifier and never take a fixed column', () => {
    assert.equal(columnNameFor(numeric('tenure months'), none), 'f_tenure_months');
    assert.equal(columnNameFor(numeric('Monthly-Charges'), none), 'f_monthly_charges');
    assert.equal(columnNameFor(numeric('2024_spend'), none), 'f_2024_spend');
    assert.equal(columnNameFor(numeric('score'), none), 'f_score');
    assert.equal(columnNameFor(numeric('id'), none), 'f_id');
    assert.equal(columnNameFor(numeric('Région'), none), 'f_region');
    assert.equal(
      columnNameFor(numeric('a"; DROP TABLE predictions; --'), none),
      'f_a_drop_table_predictions',
    );
    assert.equal(columnNameFor(numeric('日本'), none), 'f');
    assert.equal(columnNameFor(numeric('x'.repeat(200)), none).length, 48);
  });

  it('add a numeric suffix on a clash, case-insensitive ones included', () => {
    assert.equal(columnNameFor(numeric('total'), new Set(['f_total'])), 'f_total_2');
    assert.equal(columnNameFor(numeric('Total'), new Set(['f_total', 'f_total_2'])), 'f_total_3');
  });

  it("keep Expresso's lower-case names", () => {
    assert.equal(columnNameFor({ name: 'TOP_PACK', kind: 'categorical' }, none), 'top_pack');
    assert.equal(columnNameFor(numeric('top_pack'), none), 'f_top_pack');
    assert.equal(EXPRESSO_COLUMNS.length, 17);
  });

  it('quote only names the store makes', () => {
    assert.equal(sqlIdentifier('f_total_2'), '"f_total_2"');
    assert.throws(() => sqlIdentifier('a"b'), /not a feature column name/);
  });
});

describe('registering features', () => {
  const registered = [{ feature: 'tenure', column: 'f_tenure', kind: 'numeric' as const }];

  it('registers only the features the registry lacks, in the order wanted', () => {
    assert.deepEqual(
      newFeatureColumns(registered, [numeric('Tenure'), numeric('tenure'), numeric('TENURE')], 'db', 10),
      [
        { feature: 'Tenure', column: 'f_tenure_2', kind: 'numeric' },
        { feature: 'TENURE', column: 'tenure', kind: 'numeric' },
      ],
    );
  });

  it('refuses a feature whose kind changed, naming it, with a hint', () => {
    assert.throws(
      () => newFeatureColumns(registered, [{ name: 'tenure', kind: 'categorical' }], 'db.sqlite', 10),
      (error: Error) =>
        isChurnwatchError(error) &&
        error.code === 'CW_STORE_FEATURE_KIND_CHANGED' &&
        /db.sqlite: feature "tenure" is stored as numeric \(column f_tenure\)/.test(error.message) &&
        /new database/.test(error.hint ?? ''),
    );
  });

  it('refuses more feature columns than the engine holds', () => {
    const many = Array.from({ length: MAX_FEATURE_COLUMNS.postgres }, (_, i) => numeric(`n${i}`));
    assert.equal(
      newFeatureColumns(registered, many.slice(1), 'pg', MAX_FEATURE_COLUMNS.postgres).length,
      many.length - 1,
    );
    assert.throws(
      () => newFeatureColumns(registered, many, 'pg', MAX_FEATURE_COLUMNS.postgres),
      (error: Error) =>
        isChurnwatchError(error) && error.code === 'CW_STORE_TOO_MANY_FEATURES' && /1592/.test(error.message),
    );
  });

  it('refuses registry rows this version never writes', () => {
    assert.deepEqual(
      registeredColumns(
        [
          { position: 2, feature: 'b', column_name: 'f_b', kind: 'categorical' },
          { position: 1, feature: 'a', column_name: 'f_a', kind: 'numeric' },
        ],
        'db',
      ),
      [
        { feature: 'a', column: 'f_a', kind: 'numeric' },
        { feature: 'b', column: 'f_b', kind: 'categorical' },
      ],
    );
    assert.throws(
      () => registeredColumns([{ position: 1, feature: 'a', column_name: 'a; DROP', kind: 'numeric' }], 'db'),
      (error: Error) => isChurnwatchError(error) && error.code === 'CW_STORE_REGISTRY_INVALID',
    );
  });
});
