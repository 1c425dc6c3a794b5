import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATASET_SCHEMA_VERSION, type DatasetSchema, EXPRESSO_SCHEMA } from '../data/dataset-schema.js';
import { createRng } from '../data/rng.js';
import type { ReplayModel } from './replay-model.js';
import { planScenarios } from './scenario-plan.js';
import { applyShift, expressoPlan, getScenario, listScenarios, toRequestRecord } from './scenarios.js';

const schema: DatasetSchema = {
  version: DATASET_SCHEMA_VERSION,
  id: 'customerID',
  target: { column: 'Churn', positive: 'Yes', negative: 'No' },
  features: [
    { name: 'tenure months', kind: 'numeric' },
    { name: 'Monthly-Charges', kind: 'numeric' },
    { name: '2024_spend', kind: 'numeric' },
    { name: 'score', kind: 'numeric' },
    { name: 'Contract', kind: 'categorical' },
    { name: 'payment method', kind: 'categorical' },
    { name: 'id', kind: 'categorical' },
  ],
  missingTokens: [''],
  dropped: [],
};

const model: ReplayModel = {
  schema,
  importance: {
    'Monthly-Charges': 0.4,
    'tenure months': 0.3,
    Contract: 0.2,
    '2024_spend': 0.05,
    score: 0.01,
  },
  reference: {
    'tenure months': { kind: 'numeric', categories: 0, mean: 30, std: 20 },
    'Monthly-Charges': { kind: 'numeric', categories: 0, mean: 60, std: 25 },
    '2024_spend': { kind: 'numeric', categories: 0, mean: 60, std: 25 },
    score: { kind: 'numeric', categories: 0, mean: 60, std: 25 },
    Contract: { kind: 'categorical', categories: 3 },
    'payment method': { kind: 'categorical', categories: 5 },
    id: { kind: 'categorical', categories: 4 },
  },
  source: 'test',
};

const row = {
  userId: '7590-VHVEG',
  features: {
    'tenure months': 10,
    'Monthly-Charges': 29.85,
    '2024_spend': 40,
    score: null,
    Contract: 'Month-to-month',
    'payment method': 'Mailed check',
    id: 'Bank transfer',
  },
  churn: 1 as const,
};

test('Expresso without --feature keeps the preset: MONTANT/REVENUE for DAKAR, TOP_PACK and REGION', () => {
  const plan = planScenarios({ schema: EXPRESSO_SCHEMA, reference: {}, source: 'x' });
  assert.equal(plan, expressoPlan());
  assert.match(
    getScenario('sudden-drift', plan).summary,
    /^MONTANT and REVENUE \(and ARPU_SEGMENT with it\) ×3 for DAKAR/,
  );
  assert.match(getScenario('new-categories', plan).summary, /TOP_PACK and REGION/);
});

test('a generic model: the most important numeric feature drifts, the categoricals with most categories get unseen values', () => {
  const plan = planScenarios(model);
  assert.deepEqual(plan.drift, ['Monthly-Charges']);
  assert.equal(plan.driftRegion, undefined);
  assert.deepEqual(
    plan.newCategories.map(([n]) => n),
    ['payment method', 'id'],
  );
  assert.deepEqual(
    plan.missing.map(([n]) => n),
    ['Monthly-Charges', 'tenure months', 'Contract'],
  );
  // Every scenario's words name the features chosen.
  assert.match(getScenario('sudden-drift', plan).summary, /^Monthly-Charges ×3 for every row/);
  assert.match(getScenario('sudden-drift', plan).expect, /^Monthly-Charges turns red/);
  assert.match(getScenario('gradual-drift', plan).expect, /^Monthly-Charges PSI/);
  assert.match(
    getScenario('missing-spike', plan).summary,
    /Monthly-Charges 50 %, tenure months 40 %, Contract 30 %/,
  );
  assert.match(getScenario('new-categories', plan).expect, /payment method and id, both red/);
  assert.match(getScenario('concept-drift', plan).summary, /customers with a high score leave/);
  assert.equal(listScenarios(plan).length, 6);

  const shifted = applyShift(row, getScenario('sudden-drift', plan).shiftAt(0), createRng(1), plan);
  assert.equal(shifted.features['Monthly-Charges'], 89.55);
  assert.equal(shifted.features['tenure months'], 10);
  assert.equal(shifted.features.score, null);
  const record = toRequestRecord(shifted, plan.features);
  assert.deepEqual(Object.keys(record), ['user_id', ...schema.features.map((f) => f.name)]);
  assert.equal(record.user_id, '7590-VHVEG');
  assert.equal(record.id, 'Bank transfer');
});

test('--feature overrides the choice, by exact name or ignoring case; a name the model lacks is refused', () => {
  const plan = planScenarios(model, ['2024_SPEND', 'tenure months', 'contract']);
  assert.deepEqual(plan.drift, ['2024_spend', 'tenure months']);
  assert.deepEqual(
    plan.newCategories.map(([n]) => n),
    ['Contract'],
  );
  assert.equal(plan.missing.length, 3);
  const shifted = applyShift(
    row,
    getScenario('gradual-drift', plan).shiftAt(15 * 60_000),
    createRng(1),
    plan,
  );
  assert.equal(shifted.features['2024_spend'], 80);
  assert.equal(shifted.features['tenure months'], 20);
  assert.throws(
    () => planScenarios(model, ['tenure']),
    (e: Error & { code?: string }) =>
      e.code === 'CW_SIM_BAD_OPTION' && /--feature "tenure" is not a feature of the model/.test(e.message),
  );
  const numericOnly = planScenarios(model, ['score']);
  assert.throws(
    () => getScenario('new-categories', numericOnly),
    (e: Error & { code?: string }) =>
      e.code === 'CW_SIM_BAD_OPTION' && /no categorical feature/.test(e.message),
  );
});

test('generic new-categories and concept drift act on the chosen features only', () => {
  const plan = planScenarios(model);
  const nc = getScenario('new-categories', plan).shiftAt(0);
  const cd = getScenario('concept-drift', plan).shiftAt(0);
  let fresh = 0;
  let changed = 0;
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const s = applyShift(row, nc, createRng(9, i), plan);
    if (String(s.features['payment method']).startsWith('NEW-payment method-')) fresh++;
    assert.equal(s.features.Contract, 'Month-to-month');
    const c = applyShift(row, cd, createRng(9, i), plan);
    assert.deepEqual(c.features, row.features);
    if (c.churn !== row.churn) changed++;
  }
  assert.ok(Math.abs(fresh / n - 0.3) < 0.029, `new-category share ${fresh / n}`);
  assert.ok(changed > 100, `only ${changed} labels changed`);
});
