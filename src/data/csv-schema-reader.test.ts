import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withTempDir } from '../../test/helpers/temp-dir.js';
import { isChurnwatchError } from '../errors.js';
import { categoricalColumn, numericColumn } from './columnar-table.js';
import { parseCsvText, type ReadCsvOptions, readCsvTable } from './csv-reader.js';
import { CSV_HEADER } from './customer-schema.js';
import { DATASET_SCHEMA_VERSION, type DatasetSchema, EXPRESSO_SCHEMA } from './dataset-schema.js';
import { formatCsvLine, generateCustomerRows } from './synthetic.js';

const SCHEMA: DatasetSchema = {
  version: DATASET_SCHEMA_VERSION,
  id: 'customerID',
  target: { column: 'Churn', positive: 'Yes', negative: 'No' },
  features: [
    { name: 'tenure months', kind: 'numeric' },
    { name: 'Contract', kind: 'categorical' },
    { name: 'Total Charges', kind: 'numeric' },
  ],
  missingTokens: ['', 'NA', '-999'],
  dropped: [{ column: 'constant', reason: 'constant' }],
};

const HEADER = ' customerID ,tenure months,Contract,constant,Total Charges,notes,Churn';

function expectError(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isChurnwatchError(error), `expected a ChurnwatchError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

function expressoText(rows: number): string {
  let text = `${CSV_HEADER.join(',')}\n`;
  for (const row of generateCustomerRows({ rows, seed: 5 })) text += `${formatCsvLine(row)}\n`;
  // A TOP_PACK ending in tabs: kept as it is by Expresso's rules.
  return `${text}0000aaaa,,K > 24 month,,,,,,,,,,,,NO,3,Internat: 1000F_Zone_1;24H\t\t,2,1\n`;
}

describe('reading by a DatasetSchema', () => {
  it('EXPRESSO_SCHEMA gives the same table as the expresso layout (one and two threads)', async () => {
    const text = expressoText(6_000);
    const expresso = parseCsvText(text, 'e.csv');
    const bySchema = parseCsvText(text, 'e.csv', { schema: EXPRESSO_SCHEMA });
    assert.deepEqual(bySchema, expresso);
    assert.ok(
      categoricalColumn(bySchema.table, 'TOP_PACK').dictionary.includes('Internat: 1000F_Zone_1;24H\t\t'),
    );
    await withTempDir(async (dir) => {
      const path = join(dir, 'e.csv');
      await writeFile(path, text);
      const two = await readCsvTable(path, { schema: EXPRESSO_SCHEMA, threads: 2 });
      assert.deepEqual(two.table, parseCsvText(text, path).table);
    });
  });

  it('matches columns by name, trims cells, reads missing tokens, maps the labels and skips other columns', () => {
    const text = [
      HEADER,
      'A-1, 12 ,Month-to-month,x,"1,889.5",hello,Yes',
      'A-2,NA, One year ,x, ,"a, b",no',
      'A-3,-999.0,na,x,20.5,,YES',
      '"A-4",3,"Two ""year""",x,1e2,,  No  ',
    ].join('\r\n');
    const { table, errors, nonNumericCells, unlabelledRows } = parseCsvText(text, 'g.csv', {
      schema: SCHEMA,
      nonNumericAsMissing: ['Total Charges'],
      unlabelled: 'skip',
    });
    assert.deepEqual(errors, []);
    assert.equal(table.rowCount, 4);
    assert.deepEqual(table.ids, ['A-1', 'A-2', 'A-3', 'A-4']);
    assert.deepEqual([...(table.target ?? [])], [1, 0, 1, 0]);
    assert.deepEqual([...table.columns.keys()], ['tenure months', 'Contract', 'Total Charges']);
    assert.deepEqual([...numericColumn(table, 'tenure months').values], [12, Number.NaN, Number.NaN, 3]);
    // "1,889.5" is not a number: read as missing, as asked, and counted; the blank is missing.
    assert.deepEqual([...numericColumn(table, 'Total Charges').values], [Number.NaN, Number.NaN, 20.5, 100]);
    assert.deepEqual(nonNumericCells, { 'Total Charges': 1 });
    assert.equal(unlabelledRows, 0);
    const contract = categoricalColumn(table, 'Contract');
    assert.deepEqual(contract.dictionary, ['Month-to-month', 'One year', 'Two "year"']);
    assert.deepEqual([...contract.codes], [0, 1, -1, 2]);
  });

  it('reads a scoring file without the target (and without the id)', () => {
    const { table } = parseCsvText('Contract,tenure months,Total Charges\nOne year,3,4\n', 's.csv', {
      schema: SCHEMA,
    });
    assert.equal(table.target, undefined);
    assert.equal(table.ids, undefined);
    assert.equal(table.rowCount, 1);
  });

  it('refuses a file without a feature column, naming the file and the column', () => {
    expectError(
      () => parseCsvText('customerID,Contract,total charges,Churn\nA,B,1,Yes\n', 'f.csv', { schema: SCHEMA }),
      'CW_DATA_CSV_HEADER',
      /^f\.csv: no column "tenure months", a feature of the schema \(2 features are absent: tenure months, Total Charges\)/,
    );
  });

  it('refuses a used column named twice', () => {
    expectError(
      () => parseCsvText(`${HEADER},Contract\n`, 'd.csv', { schema: SCHEMA }),
      'CW_DATA_CSV_HEADER',
      /d\.csv: the header names column "Contract" twice \(columns 3 and 8\)/,
    );
  });

  it('names file, row, line, column and both labels for a target of neither class', () => {
    const text = `${HEADER}\nA,1,B,x,2,,Yes\nB,1,B,x,2,,Maybe\n`;
    expectError(
      () => parseCsvText(text, 't.csv', { schema: SCHEMA }),
      'CW_DATA_CSV_ROW',
      /^t\.csv row 2 \(line 3\), column Churn: the target is "Maybe", neither "Yes" \(positive\) nor "No" \(negative\)/,
    );
  });

  it('refuses a non-numeric numeric cell, or skips it within maxErrors', () => {
    const text = `${HEADER}\nA,1,B,x,2,,Yes\nB,one,B,x,2,,No\nC,2,B,x,2,,No\n`;
    expectError(
      () => parseCsvText(text, 'n.csv', { schema: SCHEMA }),
      'CW_DATA_CSV_ROW',
      /n\.csv row 2 \(line 3\), column tenure months: non-numeric value "one" in a numeric column/,
    );
    const skipped = parseCsvText(text, 'n.csv', { schema: SCHEMA, maxErrors: 1 });
    assert.equal(skipped.table.rowCount, 2);
    assert.equal(skipped.skippedRows, 1);
    // The bad row left no category behind.
    assert.deepEqual(categoricalColumn(skipped.table, 'Contract').dictionary, ['B']);
  });

  it('a row without a label is an error, or skipped and counted for training', () => {
    const text = `${HEADER}\nA,1,B,x,2,,Yes\nB,1,C,x,2,, NA \nC,1,B,x,2,,No\n`;
    expectError(
      () => parseCsvText(text, 'u.csv', { schema: SCHEMA }),
      'CW_DATA_CSV_ROW',
      /u\.csv row 2 \(line 3\), column Churn: the target is missing/,
    );
    const read = parseCsvText(text, 'u.csv', { schema: SCHEMA, unlabelled: 'skip' });
    assert.equal(read.table.rowCount, 2);
    assert.equal(read.unlabelledRows, 1);
    assert.deepEqual(read.errors, []);
    assert.deepEqual(categoricalColumn(read.table, 'Contract').dictionary, ['B']);
  });

  it('compares labels by exact text when they differ only by case', () => {
    const schema: DatasetSchema = { ...SCHEMA, target: { column: 'Churn', positive: 'Y', negative: 'y' } };
    const { table } = parseCsvText(`${HEADER}\nA,1,B,x,2,,Y\nB,1,B,x,2,,y\n`, 'c.csv', { schema });
    assert.deepEqual([...(table.target ?? [])], [1, 0]);
  });

  it('keeps whitespace when the schema says trimWhitespace: false', () => {
    const schema: DatasetSchema = { ...SCHEMA, trimWhitespace: false, missingTokens: [''] };
    const text = 'customerID,tenure months,Contract,Total Charges,Churn\nA,1, B\t,2,Yes\n';
    const { table } = parseCsvText(text, 'w.csv', { schema });
    assert.deepEqual(categoricalColumn(table, 'Contract').dictionary, [' B\t']);
  });

  it('two threads give the same table, errors and counts as one', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 30_000; i++)
      lines.push(
        `C${i}, ${i % 50} ,${['Month-to-month', 'One year', 'Two year', 'NA'][i % 4]},x,${i % 97 === 0 ? 'n/a!' : (i * 1.5).toFixed(1)},,${i % 3 === 0 ? 'Yes' : i % 101 === 0 ? '' : 'No'}`,
      );
    lines[25_000] = lines[25_000]!.replace(/,(Yes|No|)$/, ',Perhaps');
    const text = `${lines.join('\n')}\n`;
    const options: ReadCsvOptions = {
      schema: SCHEMA,
      nonNumericAsMissing: ['Total Charges'],
      unlabelled: 'skip',
      maxErrors: 1,
    };
    await withTempDir(async (dir) => {
      const path = join(dir, 'big.csv');
      await writeFile(path, text);
      const two = await readCsvTable(path, { ...options, threads: 2 });
      const one = parseCsvText(text, path, options);
      assert.deepEqual(two, one);
      assert.equal(one.errors[0]?.row, 25_000);
      assert.ok((one.unlabelledRows ?? 0) > 100);
      assert.ok((one.nonNumericCells?.['Total Charges'] ?? 0) > 100);
    });
  });
});
