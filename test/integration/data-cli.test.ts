import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CSV_HEADER } from '../../src/data/customer-schema.js';
import { repoRoot } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const cli = (args: string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot) =>
  run(process.execPath, [join(repoRoot, 'bin', 'churnwatch.js'), ...args], {
    cwd,
    env: { ...process.env, ...env },
  });

describe('churnwatch data (CLI)', () => {
  it('generates from env options, then splits, reporting JSON on stdout', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'train.csv');
      const gen = await cli(['data', 'generate', '--quiet', '--json'], {
        CHURNWATCH_GENERATE_ROWS: '3000',
        CHURNWATCH_SEED: '9',
        CHURNWATCH_OUTPUT: out,
      });
      const generated = JSON.parse(gen.stdout) as { rows: number; path: string; churnRate: number };
      assert.equal(generated.rows, 3000);
      assert.equal(generated.path, out);
      const text = await readFile(out, 'utf8');
      assert.equal(text.split('\n')[0], CSV_HEADER.join(','));
      const split = await cli([
        'data',
        'split',
        '--data',
        out,
        '--train-fraction',
        '0.75',
        '--train-output',
        join(dir, 't.csv'),
        '--holdout-output',
        join(dir, 'h.csv'),
        '--quiet',
        '--json',
      ]);
      assert.deepEqual(JSON.parse(split.stdout), {
        totalRows: 3000,
        trainRows: 2250,
        holdoutRows: 750,
        trainOut: join(dir, 't.csv'),
        holdoutOut: join(dir, 'h.csv'),
      });
    });
  });

  it('fails with a coded error and a hint, exit code 1', async () => {
    await withTempDir(async (dir) => {
      await assert.rejects(
        cli(['data', 'download', '--from', join(dir, 'missing.zip'), '--dest', dir, '--quiet']),
        (error: unknown) => {
          const e = error as { code: number; stderr: string };
          assert.equal(e.code, 1);
          assert.match(e.stderr, /error CW_DATA_DOWNLOAD_NOT_FOUND: .*missing\.zip/);
          // Runnable as written in a clone, and honest about the default size.
          assert.match(e.stderr, /hint: .*`npx churnwatch data generate --rows 100000`/);
          assert.match(e.stderr, /2,154,048, about 232 MB/);
          return true;
        },
      );
    });
  });

  it('splits 80/20 without a size flag, showing the row count without a made-up total', async () => {
    await withTempDir(async (dir) => {
      const data = join(dir, 'train.csv');
      await cli(['data', 'generate', '--rows', '1000', '--output', data, '--quiet']);
      const split = await cli(['data', 'split', '--data', data, '--json'], {}, dir);
      assert.deepEqual(JSON.parse(split.stdout), {
        totalRows: 1000,
        trainRows: 800,
        holdoutRows: 200,
        trainOut: 'data/train-part.csv',
        holdoutOut: 'data/holdout.csv',
      });
      assert.match(split.stderr, /^split: 1,000 rows \(/m);
      assert.match(split.stderr, /^split: done in \d+\.\ds \(1,000 rows\)$/m);
      assert.doesNotMatch(split.stderr, /\/0 |\?%/);
    });
  });

  it('says done only after success', async () => {
    await withTempDir(async (dir) => {
      await assert.rejects(
        cli(['data', 'split', '--data', join(dir, 'missing.csv')], {}, dir),
        (error: { stderr: string }) => {
          assert.match(error.stderr, /error CW_DATA_CSV_NOT_FOUND: .*missing\.csv/);
          assert.match(error.stderr, /hint: check the --data path/);
          assert.doesNotMatch(error.stderr, /done/);
          return true;
        },
      );
    });
  });
});
