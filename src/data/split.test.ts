import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withTempDir } from '../../test/helpers/temp-dir.js';
import { isChurnwatchError } from '../errors.js';
import { countCsvRows, splitCsvFile } from './split.js';
import { writeSyntheticCsv } from './synthetic.js';

describe('splitCsvFile', () => {
  it('puts the first N rows in training and the rest in the held-out file, header in both', async () => {
    await withTempDir(async (dir) => {
      const input = join(dir, 'all.csv');
      await writeSyntheticCsv(input, { rows: 30_000, seed: 5 });
      const result = await splitCsvFile({
        input,
        trainRows: 21_000,
        trainOut: join(dir, 't.csv'),
        holdoutOut: join(dir, 'h.csv'),
      });
      assert.deepEqual(result, { totalRows: 30_000, trainRows: 21_000, holdoutRows: 9000 });
      const all = (await readFile(input, 'utf8')).split('\n');
      const train = (await readFile(join(dir, 't.csv'), 'utf8')).split('\n');
      const holdout = (await readFile(join(dir, 'h.csv'), 'utf8')).split('\n');
      assert.equal(train[0], all[0]);
      assert.equal(holdout[0], all[0]);
      // Concatenating the two bodies gives back the input, byte for byte.
      assert.deepEqual([all[0], ...train.slice(1, -1), ...holdout.slice(1)], all);
      assert.equal(await countCsvRows(join(dir, 'h.csv')), 9000);
    });
  });

  it('splits by fraction, keeps quoted line breaks inside one row, and adds a final newline', async () => {
    await withTempDir(async (dir) => {
      const input = join(dir, 'q.csv');
      await writeFile(input, 'a,b\r\n1,"x\r\ny"\r\n2,z\r\n\r\n3,w\r\n4,"v,u"');
      const result = await splitCsvFile({
        input,
        trainFraction: 0.5,
        trainOut: join(dir, 't.csv'),
        holdoutOut: join(dir, 'h.csv'),
      });
      assert.deepEqual(result, { totalRows: 4, trainRows: 2, holdoutRows: 2 });
      assert.equal(await readFile(join(dir, 't.csv'), 'utf8'), 'a,b\n1,"x\r\ny"\r\n2,z\r\n');
      assert.equal(await readFile(join(dir, 'h.csv'), 'utf8'), 'a,b\n3,w\r\n4,"v,u"\n');
    });
  });

  it('refuses bad sizes and leaves no output when the file is too short', async () => {
    await withTempDir(async (dir) => {
      const input = join(dir, 's.csv');
      await writeFile(input, 'a\n1\n2\n');
      const out = { trainOut: join(dir, 't.csv'), holdoutOut: join(dir, 'h.csv') };
      const code = (c: string) => (error: unknown) => isChurnwatchError(error) && error.code === c;
      await assert.rejects(splitCsvFile({ input, ...out }), code('CW_DATA_SPLIT_OPTIONS'));
      await assert.rejects(
        splitCsvFile({ input, trainFraction: 1.5, ...out }),
        code('CW_DATA_SPLIT_OPTIONS'),
      );
      await assert.rejects(splitCsvFile({ input, trainRows: 3, ...out }), code('CW_DATA_SPLIT_TOO_FEW_ROWS'));
      await assert.rejects(readFile(out.trainOut), { code: 'ENOENT' });
      await assert.rejects(readFile(out.holdoutOut), { code: 'ENOENT' });
    });
  });
});
