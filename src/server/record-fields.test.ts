import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DATASET_SCHEMA_VERSION, type DatasetSchema, EXPRESSO_SCHEMA } from '../data/dataset-schema.js';
import { HttpError } from './error-handler.js';
import { recordFieldsOf } from './record-fields.js';

const schema = (names: readonly string[], id?: string): DatasetSchema => ({
  version: DATASET_SCHEMA_VERSION,
  ...(id ? { id } : {}),
  target: { column: 'Churn', positive: 'Yes', negative: 'No' },
  features: names.map((name, i) => ({ name, kind: i % 2 === 0 ? 'numeric' : 'categorical' })),
  missingTokens: [''],
  dropped: [],
});

const refusal = (message: string) => (error: unknown) =>
  error instanceof HttpError && error.code === 'CW_PREDICT_DUPLICATE_FIELD' && error.message === message;

describe('record fields of a schema', () => {
  it('Expresso: every feature present, null when absent; user_id in either case', () => {
    const fields = recordFieldsOf(EXPRESSO_SCHEMA);
    const out = fields.canonical({ montant: 10, REGION: 'DAKAR', USER_ID: 'u' }, 'body');
    assert.equal(Object.keys(out).length, 17);
    assert.equal(out.MONTANT, 10);
    assert.equal(out.REGION, 'DAKAR');
    assert.equal(out.TENURE, null);
    assert.equal(fields.userIdOf({ USER_ID: 'u' }), 'u');
    assert.deepEqual(fields.idSpellings, ['user_id', 'USER_ID']);
    assert.throws(
      () => fields.canonical({ MONTANT: 1, montant: 2 }, 'body/records/4'),
      refusal('body/records/4 gives MONTANT twice (as MONTANT and montant); send one'),
    );
  });

  it('any names; the id column and user_id name one field; colliding spellings only exact', () => {
    const fields = recordFieldsOf(schema(['Total', 'total', 'tenure months', 'id'], 'customerID'));
    assert.deepEqual(fields.featureSpellings, [
      ['Total'],
      ['total'],
      ['tenure months', 'TENURE MONTHS'],
      ['id', 'ID'],
    ]);
    const out = fields.canonical(
      { Total: 1, total: 2, 'TENURE MONTHS': 3, ID: 'x', customerid: 'c' },
      'body',
    );
    assert.deepEqual({ ...out }, { Total: 1, total: 2, 'tenure months': 3, id: 'x' });
    assert.equal(fields.userIdOf({ customerid: 'c' }), 'c');
    assert.equal(fields.userIdOf({ user_id: 'u' }), 'u');
    assert.throws(
      () => fields.canonical({ user_id: 'a', customerID: 'a' }, 'body'),
      refusal('body gives customerID twice (as customerID and user_id); send one'),
    );
  });

  it('no limit on the number of features: 1,000, each seen once per record', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `f${i}`);
    const fields = recordFieldsOf(schema(names));
    const input = Object.fromEntries(names.map((n, i) => [n, i % 2 === 0 ? i : `c${i}`]));
    for (let r = 0; r < 3; r++) {
      const out = fields.canonical(input, 'body');
      assert.equal(out.f999, 'c999');
      assert.equal(out.f0, 0);
    }
    assert.throws(
      () => fields.canonical({ f999: 'a', F999: 'b' }, 'body'),
      refusal('body gives f999 twice (as f999 and F999); send one'),
    );
  });
});
