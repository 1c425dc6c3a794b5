import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from './error-handler.js';
import { type CanonicalField, canonicalFields, spellingsOf, spellingTable } from './field-names.js';

/** canonicalFields' index over plain names (no aliases). */
function indexOf<N extends string>(names: readonly N[]): Map<string, CanonicalField<N>> {
  const table = spellingTable(names.map((n) => [n]));
  return new Map([...table.index].map(([s, i]) => [s, { name: names[i]!, index: i }]));
}

describe('field names', () => {
  it('are spelled as named, all lower or all upper case, the name first', () => {
    assert.deepEqual(spellingsOf('MONTANT'), ['MONTANT', 'montant']);
    assert.deepEqual(spellingsOf('user_id'), ['user_id', 'USER_ID']);
    assert.deepEqual(spellingsOf('_1'), ['_1']);
    assert.deepEqual(spellingsOf('2024_spend'), ['2024_spend', '2024_SPEND']);
    assert.deepEqual(spellingsOf('Contract'), ['Contract', 'contract', 'CONTRACT']);
    assert.deepEqual(spellingsOf('tenure months'), ['tenure months', 'TENURE MONTHS']);
  });

  it('a spelling two fields reach by case belongs to the one named so, or to neither', () => {
    const table = spellingTable([['Total'], ['total'], ['Plan'], ['customerID', 'user_id'], ['id']]);
    // `total` is the second field's exact name; `TOTAL` is both fields' upper case: no one's.
    assert.deepEqual(table.spellings, [
      ['Total'],
      ['total'],
      ['Plan', 'plan', 'PLAN'],
      ['customerID', 'customerid', 'CUSTOMERID', 'user_id', 'USER_ID'],
      ['id', 'ID'],
    ]);
    assert.equal(table.index.get('TOTAL'), undefined);
    assert.equal(table.index.get('total'), 1);
    assert.equal(table.index.get('USER_ID'), 3);
  });

  it('read under their canonical names; unknown keys dropped; one field twice refused', () => {
    const index = indexOf(['churn', 'user_id'] as const);
    assert.deepEqual(
      canonicalFields({ CHURN: 1, user_id: 'u', x: 2 }, index, 'body', 'CW_FEEDBACK_DUPLICATE_FIELD'),
      {
        churn: 1,
        user_id: 'u',
      },
    );
    assert.throws(
      () =>
        canonicalFields(
          { USER_ID: 'a', user_id: 'a' },
          index,
          'body/records/2',
          'CW_FEEDBACK_DUPLICATE_FIELD',
        ),
      (error: unknown) =>
        error instanceof HttpError &&
        error.statusCode === 400 &&
        error.code === 'CW_FEEDBACK_DUPLICATE_FIELD' &&
        error.message === 'body/records/2 gives user_id twice (as user_id and USER_ID); send one',
    );
  });
});
