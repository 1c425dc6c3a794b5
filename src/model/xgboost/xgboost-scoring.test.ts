import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  BINARY_FIXTURES,
  type BinaryFixture,
  fixturePredictions,
  fixtureRecords,
  readFixtureText,
  readXgboostFixtureTable,
  XGBOOST_FIXTURES,
  XGBOOST_SCHEMA,
} from '../../../test/helpers/xgboost-fixtures.js';
import type { ColumnarTable } from '../../data/columnar-table.js';
import type { RawFeatures } from '../../data/feature-types.js';
import type { ChurnModel, ModelInfo } from '../churn-model.js';
import type { ReferenceProfile } from '../reference-profile-types.js';
import { createXgboostChurnModel } from './xgboost-churn-model.js';
import { bindXgboostFeatures, compareCodePoints, pandasCategoryOrder } from './xgboost-features.js';
import { baseMarginOf, compileXgboostForest, type XgboostForest } from './xgboost-forest.js';
import { parseXgboostJsonText, readXgboostBooster, type XgboostBooster } from './xgboost-json.js';

const TOLERANCE = 1e-6;
const TRAIN_ROWS = 1500; // make-fixtures.py: the rows after these sit on split conditions

async function loadBooster(name: string): Promise<XgboostBooster> {
  const file = join(XGBOOST_FIXTURES, `${name}.json`);
  return readXgboostBooster(parseXgboostJsonText(await readFixtureText(`${name}.json`), file), file);
}

function modelOf(booster: XgboostBooster, table: ColumnarTable, forest?: XgboostForest): ChurnModel {
  const binding = bindXgboostFeatures(booster, XGBOOST_SCHEMA, 'fixture', (name) => {
    const column = table.columns.get(name);
    return column?.kind === 'categorical' ? pandasCategoryOrder(column.dictionary) : [];
  });
  return createXgboostChurnModel(
    forest ?? compileXgboostForest(booster),
    binding,
    {} as ModelInfo,
    {} as ReferenceProfile,
    XGBOOST_SCHEMA,
  );
}

function worstRow(scores: ArrayLike<number>, expected: Float64Array): { row: number; diff: number } {
  let worst = { row: -1, diff: 0 };
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(scores[i]! - expected[i]!);
    if (!(diff <= worst.diff)) worst = { row: i, diff };
  }
  return worst;
}

describe('imported XGBoost boosters score like xgboost.Booster.predict', () => {
  let table: ColumnarTable;
  let records: RawFeatures[];
  let predictions: Record<BinaryFixture, Float64Array>;
  before(async () => {
    table = await readXgboostFixtureTable();
    records = fixtureRecords(table);
    predictions = await fixturePredictions();
  });

  it('the fixture covers missing numbers, missing and partitioned categories, and split edges', async () => {
    assert.equal(table.rowCount, 2000);
    const missing = (name: string) => {
      const c = table.columns.get(name)!;
      return c.kind === 'numeric'
        ? c.values.filter(Number.isNaN).length
        : c.codes.filter((code) => code < 0).length;
    };
    assert.ok(
      missing('Monthly-Charges') > 50 && missing('2024_spend') > 50 && missing('payment method') > 20,
    );
    const categorical = await loadBooster('categorical');
    const partitions = categorical.trees.flatMap((t) => [...t.categorySets.values()]);
    assert.ok(
      partitions.some((set) => set.length > 1),
      'partition splits (several categories in a set)',
    );
    assert.equal((await loadBooster('deep')).baseScore, Math.fround(0.3));
  });

  for (const name of BINARY_FIXTURES) {
    it(`${name}: scoreTable, scoreRecords and scoreRecord within 1e-6 on every row`, async () => {
      const model = modelOf(await loadBooster(name), table);
      const expected = predictions[name];
      const byTable = model.scoreTable(table);
      const byBatch = model.scoreRecords(records);
      const one = Float64Array.from(records, (r) => model.scoreRecord(r));
      for (const [how, scores] of [
        ['scoreTable', byTable],
        ['scoreRecords', byBatch],
        ['scoreRecord', one],
      ] as const) {
        const worst = worstRow(scores, expected);
        assert.ok(
          worst.diff <= TOLERANCE,
          `${how}: row ${worst.row} scores ${scores[worst.row]}, xgboost ${expected[worst.row]}`,
        );
      }
      assert.deepEqual(byBatch, byTable);
      assert.deepEqual(one, byTable);
    });
  }

  it('the edge rows catch a `<=` comparison (the fixture tells strict from non-strict splits)', async () => {
    const booster = await loadBooster('deep');
    const forest = compileXgboostForest(booster);
    // v < next float32 above c  ⟺  v <= c for float32 v: the comparison churnwatch's own trees make.
    const next = new Float32Array(1);
    const nonStrict: XgboostForest = {
      ...forest,
      condition: forest.condition.map((c) => {
        if (Number.isNaN(c)) return c;
        next[0] = c;
        const bits = new Int32Array(next.buffer);
        bits[0] = c >= 0 ? bits[0]! + 1 : c === 0 ? 1 : bits[0]! - 1;
        return next[0]!;
      }),
    };
    const scores = modelOf(booster, table, nonStrict).scoreTable(table);
    let off = 0;
    for (let i = TRAIN_ROWS; i < table.rowCount; i++)
      if (Math.abs(scores[i]! - predictions.deep[i]!) > TOLERANCE) off++;
    assert.ok(off > 50, `only ${off} edge rows differ with <=`);
  });

  it('reads numbers given as text, and scores unknown categories and unparseable numbers as missing', async () => {
    const model = modelOf(await loadBooster('categorical'), table);
    const base: RawFeatures = {
      'tenure months': 12,
      'Monthly-Charges': 70.25,
      '2024_spend': 150.5,
      score: 0.3,
      Contract: 'Month-to-month',
      'payment method': 'Electronic check',
    };
    assert.equal(model.scoreRecord({ ...base, 'Monthly-Charges': '70.25' }), model.scoreRecord(base));
    const missingPayment = model.scoreRecord({ ...base, 'payment method': null });
    assert.equal(model.scoreRecord({ ...base, 'payment method': 'Carrier pigeon' }), missingPayment);
    assert.equal(model.scoreRecord({ ...base, 'payment method': undefined }), missingPayment);
    const missingScore = model.scoreRecord({ ...base, score: null });
    assert.equal(model.scoreRecord({ ...base, score: 'n/a' }), missingScore);
    const { score: _, ...withoutScore } = base;
    assert.equal(model.scoreRecord(withoutScore), missingScore);
  });

  it('base margin is logit(base_score) in float32', () => {
    assert.ok(baseMarginOf(0.5) === 0);
    assert.ok(Math.abs(baseMarginOf(Math.fround(0.3)) - Math.log(0.3 / 0.7)) < 1e-6);
  });

  it('orders categories as pandas does (Python string order, by code point)', () => {
    assert.deepEqual(pandasCategoryOrder(['b', 'a', 'B', 'b', '\u{1F600}', '\uFFFD', '']), [
      '',
      'B',
      'a',
      'b',
      '\uFFFD',
      '\u{1F600}',
    ]);
    assert.ok(compareCodePoints('\u{1F600}', '\uFFFD') > 0, 'an astral character sorts after U+FFFD');
  });
});
