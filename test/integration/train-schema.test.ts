/**
 * Training on any CSV (issue 17): the generated non-Expresso table with awkward column names through
 * the CLI and predict, a 5,000-value categorical, the training metrics on a real Pushgateway naming the
 * model's own classes and features, and one test per error a user can meet (through runTrain).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { resolveTrainOptions, runTrain, type TrainOptions } from '../../src/cli/commands/train.js';
import { isChurnwatchError } from '../../src/errors.js';
import { TRAINING_PUSH_JOB } from '../../src/metrics/catalogue.js';
import { loadModelArtifact } from '../../src/model/model-io.js';
import { generateGenericData, writeGenericCsv } from '../helpers/generic-data.js';
import { startPushgateway } from '../helpers/pushgateway.js';
import { predictThroughCli, runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';

const silent = pino({ level: 'silent' });

function trainOptions(dir: string, flags: Record<string, string | boolean>): TrainOptions {
  const base = resolveTrainOptions(
    { models: join(dir, 'models'), trees: '20', quiet: true, windowSize: '200', ...flags },
    {},
  );
  return { ...base, logger: silent };
}

async function rejectsWith(run: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(isChurnwatchError(error), `expected a ChurnwatchError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('churnwatch train on any CSV', () => {
  it('trains the generated table through the CLI with its own column names, and predicts it', async () => {
    await withTempDir(async (dir) => {
      const data = generateGenericData({ rows: 3000, numeric: 5, categorical: 4, seed: 3 });
      const csv = join(dir, 'customers.csv');
      writeGenericCsv(csv, data);
      const models = join(dir, 'models');
      const trained = await runCli([
        ...'train --target Churn --positive-label Yes --id customerID --quiet'.split(' '),
        ...['--data', csv, '--trees', '30', '--models', models],
      ]);
      assert.equal(trained.code, 0, trained.stderr);
      const { model } = await loadModelArtifact(join(models, 'latest'));
      assert.deepEqual(
        model.schema.features.map((f) => [f.name, f.kind]),
        data.schema.features.map((f) => [f.name, f.kind]),
      );
      assert.deepEqual(
        Object.keys(model.profile.features).sort(),
        data.schema.features.map((f) => f.name).sort(),
      );
      assert.ok(model.info.validation.rocAuc > 0.7, `validation AUC ${model.info.validation.rocAuc}`);

      const lines = await predictThroughCli(join(models, 'latest'), csv, dir);
      assert.equal(lines[0], 'customerID,churn_probability,churn');
      assert.equal(lines.length, 3001);
      assert.equal(lines[1]!.split(',')[0], data.ids[0]);
    });
  });

  it('keeps the categories the encoder keeps for a categorical of 5,000 values, with bounded profile labels', async () => {
    await withTempDir(async (dir) => {
      const lines = ['account,plan,usage,left'];
      for (let i = 0; i < 6000; i++)
        lines.push(
          `A${i},P${i < 5000 ? i : i % 40},${(i * 7) % 101},${(i * 13) % 5 === 0 ? 'true' : 'false'}`,
        );
      const csv = join(dir, 'wide.csv');
      await writeFile(csv, `${lines.join('\n')}\n`);
      const result = await runTrain(trainOptions(dir, { data: csv, target: 'left', categorical: 'plan' }));
      const { model } = await loadModelArtifact(result.dir);
      const plan = model.schema.features.find((f) => f.name === 'plan');
      assert.ok(plan?.kind === 'categorical');
      assert.ok(plan.categories !== undefined && plan.categories.length <= 255, `${plan.categories?.length}`);
      assert.equal(plan.otherCategories, 5000 - plan.categories.length);
      const labels = model.profile.features.plan!.labels;
      assert.ok(labels.length <= 25, `${labels.length} profile labels for plan`);
      assert.equal(model.schema.target.positive, 'true');
    });
  });

  it('pushes training metrics naming the model\u2019s classes and features', async (t) => {
    const gateway = await startPushgateway(t);
    if (!gateway) return;
    t.after(() => gateway.stop());
    await withTempDir(async (dir) => {
      const data = generateGenericData({ rows: 2000, numeric: 4, categorical: 2, seed: 4 });
      const csv = join(dir, 'customers.csv');
      writeGenericCsv(csv, data);
      const result = await runTrain({
        ...trainOptions(dir, { data: csv, target: 'Churn', positiveLabel: 'Yes', id: 'customerID' }),
        pushgatewayUrl: gateway.url,
        requirePush: true,
      });
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      const ours = text
        .split('\n')
        .filter(
          (l) => l.includes(`job="${TRAINING_PUSH_JOB}"`) && l.includes(`model_version="${result.version}"`),
        );
      const classes = ours.filter((l) => l.startsWith('churnwatch_training_class_rows{'));
      assert.deepEqual(classes.map((l) => /class="([^"]*)"/.exec(l)?.[1]).sort(), ['No', 'Yes']);
      const features = new Set(
        ours
          .filter((l) => l.startsWith('churnwatch_training_feature_values{'))
          .map((l) => /feature="([^"]*)"/.exec(l)?.[1]),
      );
      assert.deepEqual([...features].sort(), data.schema.features.map((f) => f.name).sort());
    });
  });

  describe('errors name the file and the column', () => {
    const rows = (header: string, row: (i: number) => string, n = 200) =>
      `${[header, ...Array.from({ length: n }, (_, i) => row(i))].join('\n')}\n`;

    it('target column absent', async () => {
      await withTempDir(async (dir) => {
        const csv = join(dir, 'a.csv');
        await writeFile(
          csv,
          rows('id,x,Churn', (i) => `${i},${i % 7},${i % 2 ? 'Yes' : 'No'}`),
        );
        await rejectsWith(
          runTrain(trainOptions(dir, { data: csv, target: 'Churned' })),
          'CW_DATA_SCHEMA_NO_TARGET',
          /--target Churned: .*a\.csv has no column "Churned"/,
        );
      });
    });

    it('target with more than two classes', async () => {
      await withTempDir(async (dir) => {
        const csv = join(dir, 'b.csv');
        await writeFile(
          csv,
          rows('id,x,Churn', (i) => `${i},${i % 7},${['Yes', 'No', 'Maybe'][i % 3]}`),
        );
        await rejectsWith(
          runTrain(trainOptions(dir, { data: csv, target: 'Churn' })),
          'CW_DATA_SCHEMA_TARGET_CLASSES',
          /b\.csv: the target column Churn has 3 classes, not 2/,
        );
      });
    });

    it('only one class present', async () => {
      await withTempDir(async (dir) => {
        const csv = join(dir, 'c.csv');
        await writeFile(
          csv,
          rows('id,x,Churn', (i) => `${i},${i % 7},No`),
        );
        await rejectsWith(
          runTrain(trainOptions(dir, { data: csv, target: 'Churn' })),
          'CW_DATA_SCHEMA_ONE_CLASS',
          /c\.csv: the target column Churn holds one class only/,
        );
      });
    });

    it('--id not found', async () => {
      await withTempDir(async (dir) => {
        const csv = join(dir, 'd.csv');
        await writeFile(
          csv,
          rows('id,x,Churn', (i) => `${i},${i % 7},${i % 2 ? 'Yes' : 'No'}`),
        );
        await rejectsWith(
          runTrain(trainOptions(dir, { data: csv, target: 'Churn', id: 'customerID' })),
          'CW_DATA_SCHEMA_UNKNOWN_COLUMN',
          /--id customerID: .*d\.csv has no column "customerID"/,
        );
      });
    });

    it('a feature named twice: in the header, or by two flags', async () => {
      await withTempDir(async (dir) => {
        const csv = join(dir, 'e.csv');
        await writeFile(
          csv,
          rows('id,x,x,Churn', (i) => `${i},${i % 7},${i % 5},${i % 2 ? 'Yes' : 'No'}`),
        );
        await rejectsWith(
          runTrain(trainOptions(dir, { data: csv, target: 'Churn' })),
          'CW_DATA_SCHEMA_DUPLICATE_COLUMN',
          /e\.csv: the header names column "x" twice \(columns 2 and 3\)/,
        );
        const ok = join(dir, 'f.csv');
        await writeFile(
          ok,
          rows('id,x,y,Churn', (i) => `${i},${i % 7},${i % 5},${i % 2 ? 'Yes' : 'No'}`),
        );
        await rejectsWith(
          runTrain(trainOptions(dir, { data: ok, target: 'Churn', numeric: 'x', categorical: 'x' })),
          'CW_DATA_SCHEMA_DUPLICATE_COLUMN',
          /column x is named twice/,
        );
      });
    });
  });
});
