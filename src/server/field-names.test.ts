import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from './error-handler.js';
import { canonicalFields, spellingIndex, spellingsOf, withSpellings } from './field-names.js';

describe('field names', () => {
  it('are spelled as documented or in the other case, the documented name first', () => {
    assert.deepEqual(spellingsOf('MONTANT'), ['MONTANT', 'montant']);
    assert.deepEqual(spellingsOf('user_id'), ['user_id', 'USER_ID']);
    assert.deepEqual(spellingsOf('_1'), ['_1']);
    assert.deepEqual(Object.keys(withSpellings({ churn: 1, TENURE: 2 })), [
      'churn',
      'CHURN',
      'TENURE',
      'tenure',
    ]);
  });

  it('read under their canonical names; unknown keys dropped; one field twice refused', () => {
    const index = spellingIndex(['churn', 'user_id'] as const);
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
