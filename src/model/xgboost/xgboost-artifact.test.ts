import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { withTempDir } from '../../../test/helpers/temp-dir.js';
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
import { ChurnwatchError } from '../../errors.js';
import { loadModelArtifact, saveImportedArtifact } from '../model-io.js';
import { IMPORTED_THRESHOLD_RULE, importXgboostModel } from './import-xgboost.js';
import { parseXgboostJsonText, readXgboostBooster } from './xgboost-json.js';

async function importFixture(name: BinaryFixture, table: ColumnarTable, windowSize = 200) {
  const file = join(XGBOOST_FIXTURES, `${name}.json`);
  const text = await readFixtureText(`${name}.json`);
  const booster = readXgboostBooster(parseXgboostJsonText(text, file), file);
  return { text, file, imported: importXgboostModel(booster, file, table, XGBOOST_SCHEMA, { windowSize }) };
}

async function saveFixture(modelsDir: string, name: BinaryFixture, table: ColumnarTable) {
  const { text, file, imported } = await importFixture(name, table);
  const saved = await saveImportedArtifact(modelsDir, imported, {
    schema: XGBOOST_SCHEMA,
    trainedAt: new Date('2026-12-02T10:00:00Z'),
    booster: { file, text },
    data: { file: 'data.csv', sha256: 'n/a', rows: table.rowCount },
    durationSeconds: 0.1,
  });
  return { imported, saved };
}

describe('an imported XGBoost booster as a model artifact', () => {
  let table: ColumnarTable;
  let predictions: Record<BinaryFixture, Float64Array>;
  before(async () => {
    table = await readXgboostFixtureTable();
    predictions = await fixturePredictions();
  });

  it('the import gives a threshold, held-out metrics and a profile with calibrated drift thresholds', async () => {
    const { imported } = await importFixture('categorical', table);
    assert.equal(imported.thresholdRule, IMPORTED_THRESHOLD_RULE);
    assert.ok(imported.threshold > 0 && imported.threshold < 1);
    assert.deepEqual(imported.rows, { profile: 1500, heldOut: 500 });
    assert.equal(imported.validation.rows, 500);
    assert.ok(imported.validation.rocAuc > 0.7, `AUC ${imported.validation.rocAuc}`);
    assert.equal(imported.profile.rowCount, 1500);
    assert.deepEqual(
      Object.keys(imported.profile.features),
      XGBOOST_SCHEMA.features.map((f) => f.name),
    );
    assert.equal(imported.profile.thresholds?.windowSize, 200);
    for (const name of ['payment method', '2024_spend', 'Score'])
      assert.ok(imported.profile.thresholds?.byFeature[name], `drift thresholds for ${name}`);
    // The categories in pandas' code order: sorted.
    const payments = imported.binding.categories[imported.binding.names.indexOf('payment method')]!;
    assert.deepEqual(payments, [...payments].sort());
    // Deterministic: the same inputs give the same artifact content.
    const again = (await importFixture('categorical', table)).imported;
    assert.deepEqual(again.profile, imported.profile);
    assert.equal(again.threshold, imported.threshold);
  });

  for (const name of BINARY_FIXTURES) {
    it(`${name}: saved and loaded by loadModelArtifact, it still scores like xgboost`, async () => {
      await withTempDir(async (dir) => {
        const modelsDir = join(dir, 'models');
        const { imported, saved } = await saveFixture(modelsDir, name, table);
        const { model, metadata } = await loadModelArtifact(join(modelsDir, 'latest'));
        assert.equal(model.info.version, saved.version);
        assert.equal(model.info.threshold, imported.threshold);
        assert.equal(model.info.thresholdRule, IMPORTED_THRESHOLD_RULE);
        assert.deepEqual(model.schema, XGBOOST_SCHEMA);
        assert.deepEqual(model.profile, JSON.parse(JSON.stringify(imported.profile)));
        assert.ok('source' in metadata && metadata.source === 'xgboost');
        assert.equal(metadata.booster.xgboostVersion, '1.7.4');
        // Importance from the booster's loss_changes, keyed by the schema's names, summing to 1.
        const importance = Object.entries(metadata.featureImportance);
        assert.deepEqual(importance.map(([f]) => f).sort(), model.schema.features.map((f) => f.name).sort());
        assert.ok(Math.abs(importance.reduce((s, [, g]) => s + g, 0) - 1) < 1e-9);
        assert.ok(importance.some(([, g]) => g > 0.05));
        const scores = model.scoreTable(table);
        const byRecord = fixtureRecords(table).map((r) => model.scoreRecord(r));
        for (let i = 0; i < table.rowCount; i++) {
          assert.ok(Math.abs(scores[i]! - predictions[name][i]!) <= 1e-6, `row ${i}`);
          assert.equal(byRecord[i], scores[i]);
        }
      });
    });
  }

  it('a changed model.json is refused as damaged, by its sha256 or by the booster field at fault', async () => {
    await withTempDir(async (dir) => {
      const modelsDir = join(dir, 'models');
      const { saved } = await saveFixture(modelsDir, 'small', table);
      const modelPath = join(saved.dir, 'model.json');
      const doc = JSON.parse(await readFile(modelPath, 'utf8'));
      const booster = parseXgboostJsonText(doc.booster, 'booster') as {
        learner: { gradient_booster: { model: { trees: { left_children: number[] }[] } } };
      };
      booster.learner.gradient_booster.model.trees[2]!.left_children[0] = 77;
      const text = `${JSON.stringify({ ...doc, booster: JSON.stringify(booster) })}\n`;
      await writeFile(modelPath, text);
      await assert.rejects(loadModelArtifact(saved.dir), (error: unknown) => {
        assert.ok(error instanceof ChurnwatchError && error.code === 'CW_MODEL_DAMAGED');
        assert.match(error.message, /model\.json does not match its sha256/);
        return true;
      });
      const manifestPath = join(saved.dir, 'manifest.json');
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
      manifest.files['model.json'] = createHash('sha256').update(text).digest('hex');
      await writeFile(manifestPath, JSON.stringify(manifest));
      await assert.rejects(loadModelArtifact(saved.dir), (error: unknown) => {
        assert.ok(error instanceof ChurnwatchError && error.code === 'CW_MODEL_DAMAGED', String(error));
        assert.match(error.message, /model\.json .*trees\[2\]\.left_children\[0\] is 77/);
        return true;
      });
    });
  });
});
