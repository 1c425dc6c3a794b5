/**
 * Reruns test/fixtures/xgboost/make-fixtures.py with the real xgboost (Debian's /usr/bin/python3) into
 * a temporary directory and scores its fresh boosters against its fresh predictions: the vendored
 * predictions are the oracle of the other tests, this checks the scorer against a live xgboost too.
 * Skipped when /usr/bin/python3 has no xgboost (apt-get install python3-xgboost), except under CI=true,
 * where .ci/run installs it and its absence is a failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withTempDir } from '../../../test/helpers/temp-dir.js';
import { BINARY_FIXTURES, XGBOOST_FIXTURES, XGBOOST_SCHEMA } from '../../../test/helpers/xgboost-fixtures.js';
import { readCsvTable } from '../../data/csv-reader.js';
import { createXgboostChurnModel } from './xgboost-churn-model.js';
import { bindXgboostFeatures, pandasCategoryOrder } from './xgboost-features.js';
import { compileXgboostForest } from './xgboost-forest.js';
import { parseXgboostJsonText, readXgboostBooster } from './xgboost-json.js';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import xgboost; print(xgboost.__version__)'], { encoding: 'utf8' });
const version = probe.status === 0 ? probe.stdout.trim() : undefined;

const CI = process.env.CI === 'true';

describe('the fixtures against a live xgboost', () => {
  it('has xgboost under CI', { skip: !CI }, () => {
    assert.ok(version, `${PYTHON} has no xgboost: .ci/run must install python3-xgboost`);
  });

  it('make-fixtures.py reruns, and the scorer agrees with its fresh predictions within 1e-6', {
    skip: version ? false : `${PYTHON} has no xgboost (apt-get install python3-xgboost)`,
    timeout: 120_000,
  }, async () => {
    await withTempDir(async (dir) => {
      const run = spawnSync(PYTHON, [join(XGBOOST_FIXTURES, 'make-fixtures.py'), dir], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const { table } = await readCsvTable(join(dir, 'data.csv'), { schema: 'infer' });
      const lines = (await readFile(join(dir, 'predictions.csv'), 'utf8')).trim().split('\n');
      const header = lines[0]!.split(',');
      for (const name of BINARY_FIXTURES) {
        const file = join(dir, `${name}.json`);
        const booster = readXgboostBooster(parseXgboostJsonText(await readFile(file, 'utf8'), file), file);
        const binding = bindXgboostFeatures(booster, XGBOOST_SCHEMA, file, (feature) => {
          const column = table.columns.get(feature);
          return column?.kind === 'categorical' ? pandasCategoryOrder(column.dictionary) : [];
        });
        const model = createXgboostChurnModel(
          compileXgboostForest(booster),
          binding,
          { version: name, trainedAt: '', threshold: 0.5, thresholdRule: '', validation: {} as never },
          {} as never,
          XGBOOST_SCHEMA,
        );
        const scores = model.scoreTable(table);
        const k = header.indexOf(name);
        lines.slice(1).forEach((line, i) => {
          const expected = Number(line.split(',')[k]);
          assert.ok(Math.abs(scores[i]! - expected) <= 1e-6, `${name} row ${i}: ${scores[i]} vs ${expected}`);
        });
      }
    });
  });
});
