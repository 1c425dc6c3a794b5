import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  readFixtureText,
  readXgboostFixtureTable,
  XGBOOST_SCHEMA,
} from '../../../test/helpers/xgboost-fixtures.js';
import type { DatasetSchema } from '../../data/dataset-schema.js';
import { ChurnwatchError } from '../../errors.js';
import { importXgboostModel } from './import-xgboost.js';
import { bindXgboostFeatures } from './xgboost-features.js';
import { parseXgboostJsonText, readXgboostBooster, type XgboostBooster } from './xgboost-json.js';

const FILE = 'models/booster.json';

// biome-ignore lint/suspicious/noExplicitAny: the tests damage the booster's JSON field by field
type LooseJson = Record<string, any>;

/** The fixture booster as parsed JSON, to damage. */
async function boosterJson(name: string): Promise<LooseJson> {
  return parseXgboostJsonText(await readFixtureText(`${name}.json`), FILE) as LooseJson;
}

function treesOf(json: LooseJson): LooseJson[] {
  return json.learner.gradient_booster.model.trees;
}

function refused(fn: () => unknown, code: string, ...parts: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ChurnwatchError, String(error));
    assert.equal(error.code, code, error.message);
    for (const part of parts) assert.ok(error.message.includes(part), `"${error.message}" lacks "${part}"`);
    return true;
  });
}

const read = (json: unknown) => () => readXgboostBooster(json, FILE);

describe('XGBoost import refuses what it cannot score exactly', () => {
  for (const [name, objective] of [
    ['multiclass', 'multi:softprob'],
    ['regression', 'reg:squarederror'],
  ] as const) {
    it(`a ${objective} booster, naming the file and the objective`, async () => {
      refused(
        read(await boosterJson(name)),
        'CW_MODEL_XGBOOST_OBJECTIVE',
        FILE,
        objective,
        'binary:logistic',
      );
    });
  }

  it('a dart or gblinear booster', async () => {
    const json = await boosterJson('small');
    json.learner.gradient_booster.name = 'dart';
    refused(read(json), 'CW_MODEL_XGBOOST_OBJECTIVE', 'learner.gradient_booster.name', 'dart');
  });

  it('text that is not the JSON format (UBJSON, truncated)', async () => {
    refused(
      () => parseXgboostJsonText('\x7b\x00UBJ', FILE),
      'CW_MODEL_XGBOOST_INVALID',
      FILE,
      'not valid JSON',
    );
    refused(() => parseXgboostJsonText('[L\x00\x00', FILE), 'CW_MODEL_XGBOOST_INVALID', 'UBJSON');
    const text = await readFixtureText('small.json');
    refused(() => parseXgboostJsonText(text.slice(0, 500), FILE), 'CW_MODEL_XGBOOST_INVALID', FILE);
  });

  it('keeps NaN and Infinity written bare outside strings, and leaves them alone inside strings', () => {
    const parsed = parseXgboostJsonText('{"a":[NaN,-Infinity,Infinity,1],"b":"NaN \\"Infinity\\""}', FILE);
    assert.deepEqual(parsed, { a: [null, -Infinity, Infinity, 1], b: 'NaN "Infinity"' });
  });

  const damages: [string, (tree: LooseJson, json: LooseJson) => void, string[]][] = [
    ['an array of the wrong length', (t) => t.right_children.pop(), ['trees[3].right_children', 'entries']],
    ['a child outside the tree', (t) => (t.left_children[0] = 999), ['trees[3].left_children[0] is 999']],
    [
      'a node reached twice',
      (t) => (t.right_children[0] = t.left_children[0]),
      ['trees[3].right_children[0]', 'reached twice'],
    ],
    ['a feature past num_feature', (t) => (t.split_indices[0] = 40), ['trees[3].split_indices[0] is 40']],
    ['a missing field', (t) => delete t.base_weights, ['trees[3].base_weights must be an array']],
    ['a bad default_left', (t) => (t.default_left[0] = 7), ['trees[3].default_left[0]']],
    ['a non-numeric condition', (t) => (t.split_conditions[0] = 'x'), ['trees[3].split_conditions[0]']],
    [
      'a leaf without a value',
      (t) => (t.split_conditions[t.left_children.indexOf(-1)] = null),
      ['a leaf value'],
    ],
    [
      'a base_score that is not a probability',
      (_, json) => (json.learner.learner_model_param.base_score = '1.5'),
      ['base_score'],
    ],
    [
      'no trees',
      (_, json) => (json.learner.gradient_booster.model.trees = []),
      ['trees must be a non-empty'],
    ],
    [
      'feature names that do not match num_feature',
      (_, json) => json.learner.feature_names.pop(),
      ['learner.feature_names has 5 entries'],
    ],
  ];
  for (const [what, damage, parts] of damages) {
    it(`a damaged file: ${what}, naming the field`, async () => {
      const json = await boosterJson('categorical');
      damage(treesOf(json)[3]!, json);
      refused(read(json), 'CW_MODEL_XGBOOST_INVALID', FILE, ...parts);
    });
  }

  it('a damaged categorical split set, naming the field', async () => {
    const json = await boosterJson('categorical');
    const t = treesOf(json).findIndex((tree) => tree.categories_nodes.length > 0);
    const tree = treesOf(json)[t]!;
    tree.categories_sizes[0] = tree.categories.length + 1;
    refused(read(json), 'CW_MODEL_XGBOOST_INVALID', `trees[${t}].categories_segments[0]`, 'past categories');
    tree.categories_sizes[0] = 1;
    tree.categories_nodes[0] = 0;
    tree.split_type[0] = 0;
    refused(read(json), 'CW_MODEL_XGBOOST_INVALID', `trees[${t}].categories_nodes[0]`);
  });
});

describe('XGBoost import checks the booster against the schema', () => {
  const bind =
    (booster: XgboostBooster, schema: DatasetSchema, categories: readonly string[] = ['a', 'b']) =>
    () =>
      bindXgboostFeatures(booster, schema, FILE, () => categories);
  const without = (name: string): DatasetSchema => ({
    ...XGBOOST_SCHEMA,
    features: XGBOOST_SCHEMA.features.filter((f) => f.name !== name),
  });

  it('names the booster features the schema lacks', async () => {
    const booster = readXgboostBooster(await boosterJson('deep'), FILE);
    refused(
      bind(booster, without('2024_spend')),
      'CW_MODEL_XGBOOST_FEATURES',
      FILE,
      '"2024_spend"',
      'not in the schema',
    );
  });

  it('refuses a kind mismatch, naming the feature', async () => {
    const booster = readXgboostBooster(await boosterJson('categorical'), FILE);
    const schema: DatasetSchema = {
      ...XGBOOST_SCHEMA,
      features: XGBOOST_SCHEMA.features.map((f) =>
        f.name === 'Contract' ? { name: f.name, kind: 'numeric' } : f,
      ),
    };
    refused(bind(booster, schema), 'CW_MODEL_XGBOOST_FEATURES', '"Contract" is categorical in the booster');
  });

  it('refuses an unnamed booster whose feature count differs from the schema', async () => {
    const booster = readXgboostBooster(await boosterJson('small'), FILE);
    refused(bind(booster, without('Score')), 'CW_MODEL_XGBOOST_FEATURES', 'no feature names and 6 features');
  });

  it('refuses a split on a category code the reference does not have', async () => {
    const booster = readXgboostBooster(await boosterJson('categorical'), FILE);
    refused(
      bind(booster, XGBOOST_SCHEMA, ['x']),
      'CW_MODEL_XGBOOST_FEATURES',
      'splits on category code',
      'only 1 categories',
    );
  });

  it('refuses a reference without labels or too small', async () => {
    const booster = readXgboostBooster(await boosterJson('small'), FILE);
    const table = await readXgboostFixtureTable();
    const { target: _, ...unlabelled } = table;
    refused(
      () => importXgboostModel(booster, FILE, unlabelled, XGBOOST_SCHEMA),
      'CW_MODEL_XGBOOST_REFERENCE',
      'Churn',
    );
    const tiny = { ...table, rowCount: 50 };
    refused(
      () => importXgboostModel(booster, FILE, tiny, XGBOOST_SCHEMA),
      'CW_MODEL_XGBOOST_REFERENCE',
      '50 rows',
    );
    const noContract = { ...table, columns: new Map([...table.columns].filter(([n]) => n !== 'Contract')) };
    refused(
      () => importXgboostModel(booster, FILE, noContract, XGBOOST_SCHEMA),
      'CW_MODEL_XGBOOST_REFERENCE',
      'Contract',
    );
  });
});
