import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXPRESSO_SCHEMA } from '../data/dataset-schema.js';
import { schemaChanges } from './schema-change.js';

describe('schema changes on reload', () => {
  it('none for the same schema, nor for other categories kept', () => {
    assert.deepEqual(schemaChanges(EXPRESSO_SCHEMA, EXPRESSO_SCHEMA), []);
    const categories = {
      ...EXPRESSO_SCHEMA,
      features: EXPRESSO_SCHEMA.features.map((f) =>
        f.kind === 'categorical' ? { ...f, categories: ['A'] } : f,
      ),
    };
    assert.deepEqual(schemaChanges(EXPRESSO_SCHEMA, categories), []);
  });

  it('names a kind changed, the order, the id and the target', () => {
    const kind = {
      ...EXPRESSO_SCHEMA,
      features: EXPRESSO_SCHEMA.features.map((f) =>
        f.name === 'MRG' ? { name: f.name, kind: 'numeric' as const } : f,
      ),
    };
    assert.deepEqual(schemaChanges(EXPRESSO_SCHEMA, kind), [
      'feature kinds changed: MRG (categorical → numeric)',
    ]);
    const reordered = { ...EXPRESSO_SCHEMA, features: [...EXPRESSO_SCHEMA.features].reverse() };
    assert.deepEqual(schemaChanges(EXPRESSO_SCHEMA, reordered), ['features in another order']);
    const { id: _id, ...noId } = EXPRESSO_SCHEMA;
    const target = { ...noId, target: { column: 'CHURN', positive: 'yes', negative: 'no' } };
    assert.deepEqual(schemaChanges(EXPRESSO_SCHEMA, target), [
      'id column user_id → (none)',
      'target CHURN (1/0) → CHURN (yes/no)',
    ]);
  });
});
