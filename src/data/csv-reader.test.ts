import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { realSamplePath } from '../../test/helpers/shared-files.js';
import { withTempDir } from '../../test/helpers/temp-dir.js';
import { isChurnwatchError } from '../errors.js';
import { categoricalColumn, numericColumn } from './columnar-table.js';
import { parseCsvText, readCsvTable } from './csv-reader.js';
import { CSV_HEADER } from './customer-schema.js';
import { formatCsvLine, generateCustomerRows } from './synthetic.js';

const HEADER = CSV_HEADER.join(',');
const ROW_1 =
  '00000bfd7d50f01092811bc0c8d7b0d6fe7c3596,FATICK,K > 24 month,4250,15,4251,1417,17,4,388,46,1,1,2,NO,54,On net 200F=Unlimited _call24H,8,0';
const ROW_2 = '00000cb4a5d760de88fecb38e2f71b7bec52e834,,I 18-21 month,,,,,,,,,,,,NO,4,,,1';
const ROW_QUOTED =
  '00001dd6fa45f7ba044bd5d84937be464ce78ac2,DAKAR,K > 24 month,13500,15,13502,4501,18,43804,41,102,2,,,NO,62,"Data:1000F=5GB,7d",11,0';
const ROW_TABS = '0000aaaa,,K > 24 month,,,,,,,,,,,,NO,3,Internat: 1000F_Zone_1;24H\t\t,2,1';

function expectRowError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isChurnwatchError(error), `expected a ChurnwatchError, got ${String(error)}`);
    assert.equal(error.code, 'CW_DATA_CSV_ROW');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('readCsvTable on the real Expresso sample', () => {
  it('loads the 99 real rows and keeps their values', async (t) => {
    const path = realSamplePath();
    if (!path) {
      if (process.env.CI === 'true') throw new Error('shared/data/expresso-sample.csv must exist under CI');
      t.skip('the real sample rows are not beside this checkout');
      return;
    }
    const { table, skippedRows } = await readCsvTable(path);
    assert.equal(skippedRows, 0);
    assert.equal(table.rowCount, 99);
    assert.deepEqual(table.header, CSV_HEADER);
    assert.equal(table.ids?.[0], '00000bfd7d50f01092811bc0c8d7b0d6fe7c3596');
    assert.equal(numericColumn(table, 'MONTANT').values[0], 4250);
    assert.equal(numericColumn(table, 'REVENUE').values[3], 13502);
    assert.ok(Number.isNaN(numericColumn(table, 'MONTANT').values[1]!));
    const pack = categoricalColumn(table, 'TOP_PACK');
    assert.equal(pack.dictionary[pack.codes[3]!], 'Data:1000F=5GB,7d');
    const region = categoricalColumn(table, 'REGION');
    assert.equal(region.codes[1], -1);
    assert.equal(region.dictionary[region.codes[0]!], 'FATICK');
    assert.deepEqual(categoricalColumn(table, 'MRG').dictionary, ['NO']);
    // The 99 real rows hold 22 churners (CHURN = 1), counted in the file itself.
    assert.equal(
      table.target?.reduce((s, v) => s + v, 0),
      22,
    );
    // ARPU_SEGMENT = round(REVENUE / 3) wherever REVENUE is present, as the profile says.
    const revenue = numericColumn(table, 'REVENUE').values;
    const arpu = numericColumn(table, 'ARPU_SEGMENT').values;
    for (let i = 0; i < table.rowCount; i++) {
      if (!Number.isNaN(revenue[i]!)) assert.equal(arpu[i], Math.round(revenue[i]! / 3));
    }
  });
});

describe('parseCsvText', () => {
  it('handles quotes, CRLF, a BOM, tabs kept verbatim and missing values', () => {
    const text = `\uFEFF${[HEADER, ROW_1, ROW_QUOTED, ROW_TABS, ROW_2].join('\r\n')}\r\n`;
    const { table } = parseCsvText(text, 'mem.csv');
    assert.equal(table.rowCount, 4);
    const pack = categoricalColumn(table, 'TOP_PACK');
    assert.deepEqual(pack.dictionary, [
      'On net 200F=Unlimited _call24H',
      'Data:1000F=5GB,7d',
      'Internat: 1000F_Zone_1;24H\t\t',
    ]);
    assert.equal(pack.codes[3], -1);
    assert.deepEqual(Array.from(table.target ?? []), [0, 0, 1, 1]);
    assert.equal(numericColumn(table, 'REGULARITY').values[3], 4);
    assert.equal(table.ids?.[3], '00000cb4a5d760de88fecb38e2f71b7bec52e834');
  });

  it('accepts a file without CHURN (scoring data) and then has no target', () => {
    const header = CSV_HEADER.slice(0, -1).join(',');
    const { table } = parseCsvText(`${header}\n${ROW_1.slice(0, -2)}\n`, 'score.csv');
    assert.equal(table.rowCount, 1);
    assert.equal(table.target, undefined);
  });

  it('keeps escaped quotes and line breaks inside quoted fields', () => {
    const row = '0000bbbb,,K > 24 month,,,,,,,,,,,,NO,3,"say ""hi""\nthere",2,1';
    const { table } = parseCsvText(`${HEADER}\n${row}\n${ROW_1}\n`, 'q.csv');
    const pack = categoricalColumn(table, 'TOP_PACK');
    assert.equal(pack.dictionary[0], 'say "hi"\nthere');
    assert.equal(table.rowCount, 2);
  });

  it('rejects a header that is not Train.csv, naming expected and found columns', () => {
    assert.throws(
      () => parseCsvText('a,b\n1,2\n', 'other.csv'),
      (error: unknown) =>
        isChurnwatchError(error) &&
        error.code === 'CW_DATA_CSV_HEADER' &&
        /other\.csv/.test(error.message) &&
        /expected: user_id,REGION/.test(error.message) &&
        /found: {4}a,b/.test(error.message),
    );
  });

  it('names file, row, line and cause for a truncated row', () => {
    expectRowError(
      () => parseCsvText(`${HEADER}\n${ROW_1}\n${ROW_1.split(',').slice(0, 10).join(',')}\n`, 'cut.csv'),
      /^cut\.csv row 2 \(line 3\): truncated row: expected 19 fields, found 10$/,
    );
  });

  it('names the column for a non-numeric value', () => {
    const bad = ROW_1.replace(',4250,', ',12x,');
    expectRowError(
      () => parseCsvText(`${HEADER}\n${bad}\n`, 'n.csv'),
      /^n\.csv row 1 \(line 2\), column MONTANT: non-numeric value "12x"/,
    );
  });

  it('rejects a CHURN that is not 0/1', () => {
    const bad = `${ROW_1.slice(0, -1)}2`;
    expectRowError(
      () => parseCsvText(`${HEADER}\n${ROW_2}\n${bad}\n`, 'c.csv'),
      /row 2 \(line 3\), column CHURN: CHURN must be 0 or 1, found "2"/,
    );
  });

  it('skips up to maxErrors bad rows, counts and returns them, then throws', () => {
    const bad1 = ROW_1.replace(',4250,', ',abc,');
    const bad2 = `${ROW_2.slice(0, -1)}7`;
    const text = `${HEADER}\n${ROW_1}\n${bad1}\n${ROW_2}\n${bad2}\n`;
    const result = parseCsvText(text, 'm.csv', { maxErrors: 2 });
    assert.equal(result.table.rowCount, 2);
    assert.equal(result.skippedRows, 2);
    assert.deepEqual(
      result.errors.map((e) => [e.row, e.line, e.column]),
      [
        [2, 3, 'MONTANT'],
        [4, 5, 'CHURN'],
      ],
    );
    // The kept rows are intact: bad rows leave nothing behind.
    assert.deepEqual(Array.from(numericColumn(result.table, 'MONTANT').values.slice(0, 1)), [4250]);
    assert.deepEqual(Array.from(result.table.target ?? []), [0, 1]);
    expectRowError(() => parseCsvText(text, 'm.csv', { maxErrors: 1 }), /more than the 1 bad rows allowed/);
  });

  it('stops after maxRows', () => {
    const { table } = parseCsvText(`${HEADER}\n${ROW_1}\n${ROW_2}\n${ROW_1}\n`, 'r.csv', { maxRows: 2 });
    assert.equal(table.rowCount, 2);
  });

  it("infers types with schema 'infer'", () => {
    const { table } = parseCsvText('x,label,when\n1.5,a,\n-2,b,3\n,a,1e3\n', 'any.csv', { schema: 'infer' });
    assert.deepEqual(Array.from(numericColumn(table, 'x').values), [1.5, -2, Number.NaN]);
    assert.deepEqual(Array.from(numericColumn(table, 'when').values), [Number.NaN, 3, 1000]);
    assert.deepEqual(categoricalColumn(table, 'label').dictionary, ['a', 'b']);
    assert.equal(table.ids, undefined);
  });

  it("reads a blank ' ' or NA in a column of numbers as missing with schema 'infer' (Telco's TotalCharges)", () => {
    const { table } = parseCsvText('total,only_na,code\n29.85, ,A\n NA ,NA,B\n108.15,na,NA\n', 'any.csv', {
      schema: 'infer',
    });
    assert.deepEqual(Array.from(numericColumn(table, 'total').values), [29.85, Number.NaN, 108.15]);
    // A column of missing tokens only has no number to be: it stays text.
    assert.equal(table.columns.get('only_na')!.kind, 'categorical');
    assert.deepEqual(categoricalColumn(table, 'code').dictionary, ['A', 'B', 'NA']);
  });
});

describe('readCsvTable streaming', () => {
  it('gives the same table as parseCsvText across many 1 MB chunk boundaries', async () => {
    await withTempDir(async (dir) => {
      let text = `${HEADER}\n`;
      for (const row of generateCustomerRows({ rows: 25_000, seed: 3 })) text += `${formatCsvLine(row)}\r\n`;
      const path = join(dir, 'big.csv');
      await writeFile(path, text);
      const streamed = await readCsvTable(path);
      const inMemory = parseCsvText(text, path);
      assert.equal(streamed.table.rowCount, 25_000);
      assert.deepEqual(streamed.table.ids, inMemory.table.ids);
      assert.deepEqual(streamed.table.target, inMemory.table.target);
      for (const [name, column] of inMemory.table.columns)
        assert.deepEqual(streamed.table.columns.get(name), column, name);
    });
  });

  it('reports a missing file with a code and a hint', async () => {
    await assert.rejects(
      readCsvTable('/nonexistent/train.csv'),
      (error: unknown) => isChurnwatchError(error) && error.code === 'CW_DATA_CSV_NOT_FOUND',
    );
  });
});

describe('readCsvTable on two threads', () => {
  async function bothWays(text: string, options: { maxErrors?: number; schema?: 'expresso' | 'infer' } = {}) {
    return withTempDir(async (dir) => {
      const path = join(dir, 'two.csv');
      await writeFile(path, text);
      const settle = async <T>(run: () => Promise<T> | T) => {
        try {
          return { ok: await run() };
        } catch (error) {
          return { error };
        }
      };
      const parallel = await settle(() => readCsvTable(path, { ...options, threads: 2 }));
      const single = await settle(() => parseCsvText(text, path, options));
      return { parallel, single };
    });
  }

  function generatedText(rows: number, newline = '\n'): string {
    let text = `${HEADER}\n`;
    for (const row of generateCustomerRows({ rows, seed: 11 })) text += `${formatCsvLine(row)}${newline}`;
    return text;
  }

  it('gives the same table, dictionary order and ids as one thread', async () => {
    const { parallel, single } = await bothWays(generatedText(20_000, '\r\n'));
    assert.ok(parallel.ok && single.ok);
    const a = parallel.ok.table;
    const b = single.ok.table;
    assert.equal(a.rowCount, 20_000);
    assert.deepEqual(a.ids, b.ids);
    assert.deepEqual(a.target, b.target);
    for (const [name, column] of b.columns) assert.deepEqual(a.columns.get(name), column, name);
  });

  it('names the true row and line of bad rows in the second part, and counts maxErrors over both', async () => {
    const lines = generatedText(12_000).trimEnd().split('\n');
    // Bad rows near the start and the end: the end ones are parsed by the worker. A blank line and a
    // quoted line break in between shift line numbers away from row numbers.
    lines[5] = lines[5]!.replace(/,(0|1)$/, ',7');
    lines[100] = `${lines[100]}\n`;
    lines[200] = lines[200]!.replace(/,NO,/, ',"N\nO",');
    lines[11_000] = lines[11_000]!.replace(/,NO,/, ',NO,x,');
    lines[11_500] = lines[11_500]!.replace(/,(0|1)$/, ',');
    const text = `${lines.join('\n')}\n`;
    const { parallel, single } = await bothWays(text, { maxErrors: 3 });
    assert.ok(parallel.ok && single.ok);
    assert.deepEqual(parallel.ok.errors, single.ok.errors);
    assert.deepEqual(
      parallel.ok.errors.map((e) => [e.row, e.line]),
      [
        [5, 6],
        [11_000, 11_003],
        [11_500, 11_503],
      ],
    );
    assert.equal(parallel.ok.skippedRows, 3);
    assert.deepEqual(parallel.ok.table.ids, single.ok.table.ids);
    assert.deepEqual(parallel.ok.table.columns, single.ok.table.columns);
    // One allowed error fewer: the last bad row (in the worker's part) is the one that throws.
    const strict = await bothWays(text, { maxErrors: 2 });
    assert.ok(isChurnwatchError(strict.parallel.error));
    assert.ok(isChurnwatchError(strict.single.error));
    assert.equal(strict.parallel.error.message, strict.single.error.message);
    assert.match(strict.parallel.error.message, /row 11500 \(line 11503\), column CHURN/);
    // No error allowed: the first bad row, in the calling thread's part, throws.
    const none = await bothWays(text);
    assert.ok(isChurnwatchError(none.parallel.error));
    assert.match(none.parallel.error.message, /row 5 \(line 6\), column CHURN/);
  });

  it('finishes on one thread when the middle of the file is inside a quoted field', async () => {
    const lines = generatedText(4_000).trimEnd().split('\n');
    // A quoted TOP_PACK as long as the rest of the file, full of line breaks, around the middle.
    const long = `"${'pack line\n'.repeat(50_000)}end"`;
    lines[2_000] = lines[2_000]!.replace(/,NO,(\d+),[^,]*,/, `,NO,$1,${long},`);
    const text = `${lines.join('\n')}\n`;
    const { parallel, single } = await bothWays(text);
    assert.ok(parallel.ok && single.ok);
    assert.equal(parallel.ok.table.rowCount, 4_000);
    assert.deepEqual(parallel.ok.table.columns, single.ok.table.columns);
    assert.deepEqual(parallel.ok.table.ids, single.ok.table.ids);
    assert.ok(categoricalColumn(parallel.ok.table, 'TOP_PACK').dictionary.some((v) => v.endsWith('\nend')));
  });

  it("merges the worker's dictionary for schema 'infer'", async () => {
    let text = 'a,b\n';
    for (let i = 0; i < 5_000; i++) text += `${i % 7 === 0 ? '' : i},v${Math.floor((i * 37) % 101)}\n`;
    text += 'x,late\n';
    const { parallel, single } = await bothWays(text, { schema: 'infer' });
    assert.ok(parallel.ok && single.ok);
    assert.deepEqual(parallel.ok.table.columns, single.ok.table.columns);
    assert.equal(categoricalColumn(parallel.ok.table, 'a').dictionary.at(-1), 'x');
  });
});
