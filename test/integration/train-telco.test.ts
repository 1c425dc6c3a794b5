/**
 * Training on the real Telco customer-churn table (../shared/data/telco, see its SOURCE.md) as a user
 * does, through the CLI: `--target Churn --positive-label Yes --id customerID` on a fixed seeded 80/20
 * split, the artifact's schema, the held-out ROC AUC, and `churnwatch predict` on the held-out file.
 * Runs wherever the file exists; under CI=true a missing file fails.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { numericColumn } from '../../src/data/columnar-table.js';
import { readCsvTable } from '../../src/data/csv-reader.js';
import { loadModelArtifact } from '../../src/model/model-io.js';
import { rocAuc } from '../../src/stats/classification.js';
import { predictThroughCli, runCli } from '../helpers/run-cli.js';
import { writeSeededSplit } from '../helpers/seeded-split.js';
import { sharedFileOrSkip, telcoPath } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';

describe('training on the real Telco data', () => {
  it('trains through the CLI, keeps the schema, scores the held-out rows well and predicts them', async (t) => {
    const path = sharedFileOrSkip(t, telcoPath(), 'telco/telco-customer-churn.csv');
    if (!path) return;
    await withTempDir(async (dir) => {
      const train = join(dir, 'train.csv');
      const holdout = join(dir, 'holdout.csv');
      assert.deepEqual(writeSeededSplit(path, train, holdout), { train: 5634, holdout: 1409 });
      const models = join(dir, 'models');
      const trained = await runCli([
        ...'train --target Churn --positive-label Yes --id customerID --quiet'.split(' '),
        ...['--data', train, '--trees', '150', '--models', models, '--json'],
      ]);
      assert.equal(trained.code, 0, trained.stderr);

      const { model } = await loadModelArtifact(join(models, 'latest'));
      const schema = model.schema;
      assert.equal(schema.id, 'customerID');
      assert.deepEqual(schema.target, { column: 'Churn', positive: 'Yes', negative: 'No' });
      assert.equal(schema.features.length, 19);
      const kind = (name: string) => schema.features.find((f) => f.name === name)?.kind;
      assert.equal(kind('TotalCharges'), 'numeric');
      assert.equal(kind('MonthlyCharges'), 'numeric');
      assert.equal(kind('tenure'), 'numeric');
      // SeniorCitizen is 0/1: numeric, as inferred (one split on it is the same as on a two-level category).
      assert.equal(kind('SeniorCitizen'), 'numeric');
      assert.equal(kind('Contract'), 'categorical');
      const contract = schema.features.find((f) => f.name === 'Contract');
      assert.ok(contract?.kind === 'categorical');
      assert.deepEqual([...(contract.categories ?? [])].sort(), ['Month-to-month', 'One year', 'Two year']);
      assert.equal(Object.keys(model.profile.features).length, 19);

      // The 11 blank TotalCharges of the whole file are missing values when read by the model's schema.
      const whole = await readCsvTable(path, { schema });
      assert.equal(whole.table.rowCount, 7043);
      const totals = numericColumn(whole.table, 'TotalCharges').values;
      assert.equal(totals.filter((v) => Number.isNaN(v)).length, 11);

      const { table } = await readCsvTable(holdout, { schema });
      assert.equal(table.rowCount, 1409);
      const scores = model.scoreTable(table);
      const auc = rocAuc(table.target!, scores);
      assert.ok(auc >= 0.8, `held-out ROC AUC ${auc.toFixed(4)} < 0.80`);

      const lines = await predictThroughCli(join(models, 'latest'), holdout, dir);
      assert.equal(lines[0], 'customerID,churn_probability,churn');
      assert.equal(lines.length, 1410);
      const [id, p] = lines[1]!.split(',');
      assert.equal(id, table.ids![0]);
      assert.equal(Number(p), Number(scores[0]!.toPrecision(6)));
    });
  });
});
