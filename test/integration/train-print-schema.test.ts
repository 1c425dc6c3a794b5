/**
 * `churnwatch train --print-schema` as a user runs it: a child process on real and generated CSVs,
 * the human table, `--json` written to a file and read back with `--schema`, flags over the file,
 * coded errors.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CSV_HEADER } from '../../src/data/customer-schema.js';
import { parseDatasetSchema } from '../../src/data/dataset-schema.js';
import { runCli } from '../helpers/run-cli.js';
import { sharedFileOrSkip, telcoPath } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';

const train = (args: string[]) => runCli(['train', ...args]);

/** 300 rows: an id, a 0/1 flag, an amount with a blank, a plan, a constant, a yes/no target. */
function customers(): string {
  const lines = ['cust_id,senior,amount,plan,country,Churned'];
  for (let i = 0; i < 300; i++)
    lines.push(
      `C${1000 + i},${i % 2},${i === 7 ? ' ' : (i * 3.25).toFixed(2)},"${i % 3 ? 'basic, monthly' : 'premium'}",FR,${i % 4 ? 'no' : 'YES'}`,
    );
  return `${lines.join('\n')}\n`;
}

describe('churnwatch train --print-schema', () => {
  it('prints the Telco schema and exits 0 without training', async (t) => {
    const path = sharedFileOrSkip(t, telcoPath(), 'telco/telco-customer-churn.csv');
    if (!path) return;
    const { code, stdout } = await train(['--data', path, '--print-schema']);
    assert.equal(code, 0);
    assert.match(stdout, /7043 rows, 21 columns; 19 features \(4 numeric, 15 categorical\), 0 dropped/);
    assert.match(stdout, /target Churn: positive "Yes" in 1869 rows \(26\.5 %\), negative "No" in 5174/);
    assert.match(stdout, /customerID\s+id\s+0\s+7043\s+inferred: a distinct text value in every row/);
    assert.match(stdout, /TotalCharges\s+numeric\s+11\s+6530/);
    assert.match(stdout, /SeniorCitizen\s+numeric/);
  });

  it('--json is a schema file that --schema reads back, with flags over it; errors are coded', async () => {
    await withTempDir(async (dir) => {
      const data = join(dir, 'customers.csv');
      await writeFile(data, customers());
      // "Churned" is not a target name: --target is needed, and yes/no labels are recognised.
      const none = await train(['--data', data, '--print-schema']);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /CW_DATA_SCHEMA_NO_TARGET/);

      const json = await train([
        '--data',
        data,
        '--print-schema',
        '--json',
        '--target',
        'Churned',
        '--categorical',
        'senior',
      ]);
      assert.equal(json.code, 0, json.stderr);
      const schema = parseDatasetSchema(json.stdout, 'stdout');
      assert.equal(schema.id, 'cust_id');
      assert.deepEqual(schema.target, { column: 'Churned', positive: 'YES', negative: 'no' });
      assert.deepEqual(
        schema.features.map((f) => `${f.name}:${f.kind}`),
        ['senior:categorical', 'amount:numeric', 'plan:categorical'],
      );
      assert.deepEqual(schema.dropped, [{ column: 'country', reason: 'constant' }]);
      assert.match(json.stderr, /warning: country: dropped, constant/);

      const file = join(dir, 'schema.json');
      await writeFile(file, json.stdout);
      const table = await train([
        '--data',
        data,
        '--print-schema',
        '--schema',
        file,
        '--numeric',
        'senior',
        '--ignore',
        'plan',
      ]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /senior\s+numeric\s+0\s+2\s+named by --numeric/);
      assert.match(table.stdout, /amount\s+numeric\s+1\s+299/);
      assert.match(table.stdout, /plan\s+dropped\s+0\s+2\s+ignored: named by --ignore/);
      assert.match(
        table.stdout,
        /Churned\s+target .*named by .*schema\.json: target\.column: positive "YES"/,
      );

      const twice = await train([
        '--data',
        data,
        '--print-schema',
        '--target',
        'Churned',
        '--id',
        'plan',
        '--ignore',
        'plan',
      ]);
      assert.equal(twice.code, 1);
      assert.match(
        twice.stderr,
        /CW_DATA_SCHEMA_DUPLICATE_COLUMN.*column plan is named twice: --id plan and --ignore plan/,
      );

      // Not Expresso's layout and no target named like one: training asks for --target.
      const other = await train(['--data', data, '--quiet', '--models', join(dir, 'models')]);
      assert.equal(other.code, 1);
      assert.match(other.stderr, /CW_DATA_SCHEMA_NO_TARGET.*customers\.csv: no target column/);
      // Expresso's layout without CHURN is still Expresso's: it fails on its labels, as before.
      const unlabelled = join(dir, 'unlabelled.csv');
      const header = CSV_HEADER.slice(0, -1);
      await writeFile(
        unlabelled,
        `${header.join(',')}\nabc,DAKAR,K > 24 month,1,2,3,4,5,6,7,8,9,10,11,NO,12,x,13\n`,
      );
      const noLabels = await train(['--data', unlabelled, '--quiet', '--models', join(dir, 'models')]);
      assert.equal(noLabels.code, 1);
      assert.match(noLabels.stderr, /CW_TRAIN_NO_LABELS/);

      // With --target it trains (test/integration/train-schema.test.ts covers training on any CSV).
      const trained = await train([
        '--data',
        data,
        '--target',
        'Churned',
        '--quiet',
        '--trees',
        '5',
        '--models',
        join(dir, 'models'),
      ]);
      assert.equal(trained.code, 0, trained.stderr);
      assert.match(trained.stdout, /model \S+ written to/);
    });
  });
});
