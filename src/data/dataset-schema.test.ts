import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isChurnwatchError } from '../errors.js';
import { CSV_HEADER, FEATURES, ID_COLUMN, TARGET_COLUMN } from './customer-schema.js';
import {
  EXPRESSO_SCHEMA,
  parseDatasetSchema,
  serializeDatasetSchema,
  trimsWhitespace,
} from './dataset-schema.js';

const valid = {
  version: 1,
  id: 'customerID',
  target: { column: 'Churn', positive: 'Yes', negative: 'No' },
  features: [
    { name: 'tenure', kind: 'numeric' },
    { name: 'Contract', kind: 'categorical', categories: ['Month-to-month', 'Two year'], otherCategories: 1 },
  ],
  missingTokens: ['', 'NA'],
  dropped: [{ column: 'gender', reason: 'ignored' }],
};

function refuses(value: unknown, code: string, pattern: RegExp): void {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  assert.throws(
    () => parseDatasetSchema(text, 'schema.json'),
    (error: unknown) => isChurnwatchError(error) && error.code === code && pattern.test(error.message),
  );
}

describe('dataset schema', () => {
  it('the Expresso preset is customer-schema.ts: id, CHURN 1/0, the 17 features in file order', () => {
    assert.equal(EXPRESSO_SCHEMA.id, ID_COLUMN);
    assert.deepEqual(EXPRESSO_SCHEMA.target, { column: TARGET_COLUMN, positive: '1', negative: '0' });
    assert.deepEqual(
      EXPRESSO_SCHEMA.features,
      FEATURES.map((f) => ({ name: f.name, kind: f.kind })),
    );
    assert.deepEqual(
      EXPRESSO_SCHEMA.features.map((f) => f.name),
      CSV_HEADER.filter((c) => c !== ID_COLUMN && c !== TARGET_COLUMN),
    );
    assert.deepEqual(
      parseDatasetSchema(serializeDatasetSchema(EXPRESSO_SCHEMA), 'expresso.json'),
      EXPRESSO_SCHEMA,
    );
  });

  it('parses a valid file; missingTokens default when absent', () => {
    assert.deepEqual(parseDatasetSchema(JSON.stringify(valid), 'schema.json'), valid);
    const { missingTokens: _, ...rest } = valid;
    assert.deepEqual(parseDatasetSchema(JSON.stringify(rest), 's.json').missingTokens, [
      '',
      'NA',
      'N/A',
      'null',
      'NaN',
      '?',
    ]);
  });

  it('reads trimWhitespace (absent: trimmed; Expresso keeps whitespace) and refuses a non-boolean', () => {
    assert.equal(trimsWhitespace(parseDatasetSchema(JSON.stringify(valid), 's.json')), true);
    const kept = parseDatasetSchema(JSON.stringify({ ...valid, trimWhitespace: false }), 's.json');
    assert.equal(kept.trimWhitespace, false);
    assert.equal(trimsWhitespace(kept), false);
    assert.equal(trimsWhitespace(EXPRESSO_SCHEMA), false);
    refuses(
      { ...valid, trimWhitespace: 'no' },
      'CW_DATA_SCHEMA_INVALID',
      /trimWhitespace must be true or false, got "no"/,
    );
  });

  it('refuses bad files with the JSON path at fault', () => {
    refuses('{', 'CW_DATA_SCHEMA_INVALID', /^schema\.json: not JSON/);
    refuses(
      { ...valid, version: 2 },
      'CW_DATA_SCHEMA_VERSION',
      /schema version 2; this churnwatch reads version 1/,
    );
    refuses(
      { ...valid, features: [{ name: 'x', kind: 'text' }] },
      'CW_DATA_SCHEMA_INVALID',
      /features\[0\]\.kind must be "numeric" or "categorical", got "text"/,
    );
    refuses(
      { ...valid, target: { column: 'Churn', positive: 'Yes' } },
      'CW_DATA_SCHEMA_INVALID',
      /target\.negative must be a non-empty string, got nothing/,
    );
    refuses(
      { ...valid, target: { column: 'Churn', positive: 'Yes', negative: 'Yes' } },
      'CW_DATA_SCHEMA_INVALID',
      /target\.negative must be a label other than the positive one/,
    );
    refuses({ ...valid, colour: 1 }, 'CW_DATA_SCHEMA_INVALID', /colour is not a schema field/);
    refuses(
      { ...valid, dropped: [{ column: 'a', reason: 'boring' }] },
      'CW_DATA_SCHEMA_INVALID',
      /dropped\[0\]\.reason must be one of constant, all-missing, id-like, ignored/,
    );
    refuses(
      { ...valid, features: [{ name: 'x', kind: 'categorical', categories: ['a', 'a'] }] },
      'CW_DATA_SCHEMA_INVALID',
      /features\[0\]\.categories\[1\] must be distinct/,
    );
    refuses(
      { ...valid, features: [{ name: 'x', kind: 'categorical', otherRows: -1 }] },
      'CW_DATA_SCHEMA_INVALID',
      /otherRows must be an integer ≥ 0/,
    );
  });

  it('refuses a column named twice in the file', () => {
    refuses(
      { ...valid, features: [...valid.features, { name: 'tenure', kind: 'categorical' }] },
      'CW_DATA_SCHEMA_DUPLICATE_COLUMN',
      /column tenure is named twice, as features\[0\] and as features\[2\]/,
    );
    refuses(
      { ...valid, dropped: [{ column: 'Churn', reason: 'ignored' }] },
      'CW_DATA_SCHEMA_DUPLICATE_COLUMN',
      /as target\.column and as dropped\[0\]/,
    );
  });
});
