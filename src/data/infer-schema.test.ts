import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realSamplePath, sharedFileOrSkip, telcoPath } from '../../test/helpers/shared-files.js';
import { type ErrorCode, isChurnwatchError } from '../errors.js';
import { EXPRESSO_SCHEMA, parseDatasetSchema, serializeDatasetSchema } from './dataset-schema.js';
import {
  flagOverrides,
  type InferredSchema,
  inferSchemaFromFile,
  inferSchemaFromText,
  mergeOverrides,
  type SchemaFlags,
  schemaFileOverrides,
} from './infer-schema.js';
import { formatInferredSchema } from './schema-summary.js';

const range = (n: number, f: (i: number) => string | number) =>
  Array.from({ length: n }, (_, i) => String(f(i)));

/** CSV text from columns of cell texts. */
function csv(columns: Record<string, readonly (string | number)[]>): string {
  const names = Object.keys(columns);
  const rows = columns[names[0]!]!.length;
  const lines = [names.join(',')];
  for (let i = 0; i < rows; i++) lines.push(names.map((n) => String(columns[n]![i])).join(','));
  return `${lines.join('\n')}\n`;
}

function infer(
  columns: Record<string, readonly (string | number)[]>,
  flags: SchemaFlags = {},
): InferredSchema {
  return inferSchemaFromText(csv(columns), 'in.csv', { overrides: flagOverrides(flags) });
}

function kinds(inferred: InferredSchema): Record<string, string> {
  return Object.fromEntries(
    inferred.columns.map((c) => [
      c.name,
      c.role === 'feature' ? c.kind! : c.role === 'dropped' ? `dropped: ${c.note.split(':')[0]}` : c.role,
    ]),
  );
}

function rejects(fn: () => unknown, code: ErrorCode, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isChurnwatchError(error), String(error));
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

const n = 200;
const churn = range(n, (i) => (i % 4 === 0 ? 1 : 0));

describe('schema inference: kinds and roles', () => {
  it('types numbers, text, low-cardinality integers and whitespace; finds CHURN with no flag', () => {
    const r = infer({
      amount: range(n, (i) => (i * 1.5).toFixed(2)),
      plan: range(n, (i) => (i % 3 ? ' basic ' : 'premium')),
      senior: range(n, (i) => i % 2),
      CHURN: churn,
    });
    assert.deepEqual(kinds(r), {
      amount: 'numeric',
      plan: 'categorical',
      senior: 'numeric',
      CHURN: 'target',
    });
    assert.deepEqual(r.schema.target, { column: 'CHURN', positive: '1', negative: '0' });
    const plan = r.schema.features.find((f) => f.name === 'plan');
    assert.deepEqual(plan, {
      name: 'plan',
      kind: 'categorical',
      categories: ['basic', 'premium'],
      otherCategories: 0,
      otherRows: 0,
    });
    assert.equal(r.labels.positive, 50);
  });

  it('reads missing tokens (blank, whitespace, NA, n/a, NULL, NaN, ?) as missing, and a few non-numbers in a numeric column as missing, reported', () => {
    const tokens = ['', '  ', 'NA', 'n/a', 'NULL', 'NaN', '?'];
    const x = range(n, (i) => (i < tokens.length ? tokens[i]! : i));
    const y = range(n, (i) => (i === 150 ? 'oops' : i / 2));
    const r = infer({ x, y, CHURN: churn });
    assert.deepEqual(kinds(r), { x: 'numeric', y: 'numeric', CHURN: 'target' });
    const [cx, cy] = r.columns;
    assert.equal(cx!.missing, tokens.length);
    assert.equal(cy!.missing, 1);
    assert.equal(cy!.nonNumeric, 1);
    assert.ok(
      r.warnings.some((w) =>
        /y: numeric, 1 non-numeric cell read as missing \(first "oops" at row 151, line 152\)/.test(w),
      ),
      r.warnings.join('\n'),
    );
  });

  it('takes decimals and exponents as numbers, not hex, infinities or comma decimals', () => {
    const r = infer({
      e: range(n, (i) => `${i}e-2`),
      hex: range(n, (i) => `0x${i.toString(16)}`),
      inf: range(n, (i) => (i % 2 ? 'Infinity' : '-Infinity')),
      comma: range(n, (i) => `"${i},5"`),
      CHURN: churn,
    });
    assert.deepEqual(kinds(r), {
      e: 'numeric',
      hex: 'id',
      inf: 'categorical',
      comma: 'dropped: id-like',
      CHURN: 'target',
    });
  });

  it('makes a column with more than 1 % non-numbers categorical', () => {
    const r = infer({ code: range(n, (i) => (i % 50 === 0 ? 'X' : i % 7)), CHURN: churn });
    assert.equal(kinds(r).code, 'categorical');
  });

  it('recognises a text id and an integer id by name, keeps the first, drops a second id-like column', () => {
    const r = infer({
      customer_id: range(n, (i) => 1000 + i),
      ref: range(n, (i) => `r-${i}`),
      seq: range(n, (i) => i),
      CHURN: churn,
    });
    assert.deepEqual(kinds(r), {
      customer_id: 'id',
      ref: 'dropped: id-like',
      seq: 'numeric',
      CHURN: 'target',
    });
    assert.equal(r.schema.id, 'customer_id');
    const asked = infer(
      { customer_id: range(n, (i) => 1000 + i), ref: range(n, (i) => `r-${i}`), CHURN: churn },
      { categorical: ['ref'] },
    );
    assert.equal(kinds(asked).ref, 'categorical');
  });

  it('drops constant and all-missing columns with a warning, and ignored ones', () => {
    const r = infer(
      {
        k: range(n, () => 'same'),
        e: range(n, () => ''),
        skip: range(n, (i) => i % 5),
        x: range(n, (i) => i % 9),
        CHURN: churn,
      },
      { ignore: ['skip'] },
    );
    assert.deepEqual(r.schema.dropped, [
      { column: 'k', reason: 'constant' },
      { column: 'e', reason: 'all-missing' },
      { column: 'skip', reason: 'ignored' },
    ]);
    assert.equal(r.warnings.length, 2);
  });

  it("drops a column named score (the name of the model's own score), and refuses to make it a feature", () => {
    const columns = { score: range(n, (i) => i / n), Score: range(n, (i) => i % 7), CHURN: churn };
    const r = infer(columns);
    assert.deepEqual(r.schema.dropped, [{ column: 'score', reason: 'reserved' }]);
    assert.deepEqual(
      r.schema.features.map((f) => f.name),
      ['Score'],
    );
    assert.match(r.warnings.join('\n'), /score: dropped, reserved/);
    rejects(() => infer(columns, { numeric: ['score'] }), 'CW_DATA_SCHEMA_RESERVED_NAME', /in\.csv: score/);
    rejects(
      () =>
        parseDatasetSchema(
          serializeDatasetSchema({ ...EXPRESSO_SCHEMA, features: [{ name: 'score', kind: 'numeric' }] }),
          'schema.json',
        ),
      'CW_DATA_SCHEMA_RESERVED_NAME',
      /schema\.json: features\[0\]: a feature cannot be named "score"/,
    );
  });

  it('takes --categorical and --numeric over inference, and a target named like one with yes/no, true/false labels', () => {
    const r = infer(
      {
        senior: range(n, (i) => i % 2),
        n: range(n, (i) => (i % 3 ? 'a' : i)),
        Churn: range(n, (i) => (i % 3 ? 'No' : 'YES')),
      },
      { categorical: ['senior'], numeric: ['n'] },
    );
    assert.deepEqual(kinds(r), { senior: 'categorical', n: 'numeric', Churn: 'target' });
    assert.deepEqual(r.schema.target, { column: 'Churn', positive: 'YES', negative: 'No' });
    assert.equal(
      infer({ x: range(n, (i) => i % 3), label: range(n, (i) => (i % 2 ? 'False' : 'true')) }).schema.target
        .positive,
      'true',
    );
  });

  it('takes any two labels with --positive-label, and keeps the top categories with a count of the others', () => {
    const r = inferSchemaFromText(
      csv({ x: range(n, (i) => `c${i % 20}`), status: range(n, (i) => (i % 5 ? 'stayed' : 'churned')) }),
      'in.csv',
      { overrides: flagOverrides({ target: 'status', positiveLabel: 'churned' }), maxCategories: 5 },
    );
    assert.deepEqual(r.schema.target, { column: 'status', positive: 'churned', negative: 'stayed' });
    const x = r.schema.features[0]!;
    assert.ok(x.kind === 'categorical');
    assert.deepEqual(x.categories, ['c0', 'c1', 'c2', 'c3', 'c4']);
    assert.equal(x.otherCategories, 15);
    assert.equal(x.otherRows, 150);
  });

  it('reads quoted fields (commas, quotes, line breaks) and a BOM', () => {
    const text =
      '\uFEFFname,"note",CHURN\r\n' +
      range(n, (i) => `"n ${i % 4}, x","say ""hi""\nthere",${i % 2}`).join('\r\n');
    const r = inferSchemaFromText(text, 'q.csv');
    assert.deepEqual(kinds(r), { name: 'categorical', note: 'dropped: constant', CHURN: 'target' });
    const name = r.schema.features[0]!;
    assert.ok(name.kind === 'categorical' && name.categories!.includes('n 0, x'));
  });
});

describe('schema inference: errors name file, column and row', () => {
  const x = range(n, (i) => i % 7);
  it('target absent, or no target found', () => {
    rejects(
      () => infer({ x, CHURN: churn }, { target: 'Churn' }),
      'CW_DATA_SCHEMA_NO_TARGET',
      /--target Churn: in\.csv has no column "Churn"/,
    );
    rejects(() => infer({ x, y: x }), 'CW_DATA_SCHEMA_NO_TARGET', /in\.csv: no target column/);
  });
  it('a target of three classes lists them; one class', () => {
    rejects(
      () => infer({ x, CHURN: range(n, (i) => (i === 120 ? 'maybe' : i % 2)) }),
      'CW_DATA_SCHEMA_TARGET_CLASSES',
      /in\.csv: the target column CHURN has 3 classes, not 2: .*"maybe" \(1 row, first at row 121, line 122\)/,
    );
    rejects(
      () => infer({ x, CHURN: range(n, () => 0) }),
      'CW_DATA_SCHEMA_ONE_CLASS',
      /CHURN holds one class only, "0" \(200 rows/,
    );
  });
  it('labels that say nothing, and a positive label that is not one', () => {
    const t = range(n, (i) => (i % 2 ? 'stayed' : 'churned'));
    rejects(
      () => infer({ x, target: t }),
      'CW_DATA_SCHEMA_POSITIVE_LABEL',
      /holds "stayed" and "churned"|holds "churned" and "stayed"/,
    );
    rejects(
      () => infer({ x, target: t }, { positiveLabel: 'gone' }),
      'CW_DATA_SCHEMA_POSITIVE_LABEL',
      /--positive-label gone is not a value of the target column target/,
    );
  });
  it('--id not found, a flag naming an unknown column, with a near name', () => {
    rejects(
      () => infer({ x, CHURN: churn }, { id: 'user' }),
      'CW_DATA_SCHEMA_UNKNOWN_COLUMN',
      /--id user: in\.csv has no column "user"/,
    );
    rejects(
      () => infer({ x, CHURN: churn }, { ignore: ['X'] }),
      'CW_DATA_SCHEMA_UNKNOWN_COLUMN',
      /--ignore X/,
    );
  });
  it('a column named twice, in flags or in the header', () => {
    rejects(
      () => flagOverrides({ categorical: ['x'], numeric: ['x'] }),
      'CW_DATA_SCHEMA_DUPLICATE_COLUMN',
      /column x is named twice: --categorical x and --numeric x/,
    );
    rejects(
      () => flagOverrides({ id: 'x', ignore: ['x'] }),
      'CW_DATA_SCHEMA_DUPLICATE_COLUMN',
      /--id x and --ignore x/,
    );
    rejects(
      () => inferSchemaFromText('a,b,a\n1,2,3\n', 'd.csv'),
      'CW_DATA_SCHEMA_DUPLICATE_COLUMN',
      /d\.csv: the header names column "a" twice \(columns 1 and 3\)/,
    );
  });
  it('no feature left; a malformed row', () => {
    rejects(
      () => infer({ x, CHURN: churn }, { ignore: ['x'] }),
      'CW_DATA_SCHEMA_NO_FEATURES',
      /no feature column is left: x \(ignored\)/,
    );
    rejects(
      () => inferSchemaFromText('a,CHURN\n1,0\n2\n', 'r.csv'),
      'CW_DATA_CSV_ROW',
      /r\.csv row 2 \(line 3\): truncated row/,
    );
  });
});

describe('schema file and flags', () => {
  const cols = {
    s: range(n, (i) => i % 2),
    z: range(n, (i) => i % 9),
    w: range(n, (i) => `w${i % 3}`),
    CHURN: churn,
  };
  it('round-trips through JSON; a file overrides inference and flags override the file', () => {
    const first = infer(cols, { categorical: ['s'], ignore: ['w'] });
    const file = parseDatasetSchema(serializeDatasetSchema(first.schema), 'schema.json');
    assert.deepEqual(file, first.schema);
    const fromFile = inferSchemaFromText(csv(cols), 'in.csv', {
      overrides: schemaFileOverrides(file, 'schema.json'),
    });
    assert.deepEqual(kinds(fromFile), kinds(first));
    const flagged = inferSchemaFromText(csv(cols), 'in.csv', {
      overrides: mergeOverrides(
        schemaFileOverrides(file, 'schema.json'),
        flagOverrides({ numeric: ['s'], categorical: ['w'] }),
      ),
    });
    assert.deepEqual(kinds(flagged), { s: 'numeric', z: 'numeric', w: 'categorical', CHURN: 'target' });
  });
});

describe('schema inference on real data', () => {
  it('Telco: customerID id, Churn target positive Yes (26.5 %), TotalCharges numeric with 11 missing, SeniorCitizen numeric, 15 categoricals', async (t) => {
    const path = telcoPath();
    if (!path) {
      if (process.env.CI === 'true')
        throw new Error('shared/data/telco/telco-customer-churn.csv must exist under CI');
      t.skip('the Telco data is not beside this checkout');
      return;
    }
    const r = await inferSchemaFromFile(path);
    assert.equal(r.rows, 7043);
    assert.equal(r.schema.id, 'customerID');
    assert.deepEqual(r.schema.target, { column: 'Churn', positive: 'Yes', negative: 'No' });
    assert.equal(r.labels.positive, 1869);
    assert.equal(((100 * r.labels.positive) / r.rows).toFixed(1), '26.5');
    const k = kinds(r);
    assert.equal(k.TotalCharges, 'numeric');
    assert.equal(r.columns.find((c) => c.name === 'TotalCharges')!.missing, 11);
    assert.equal(k.SeniorCitizen, 'numeric');
    assert.deepEqual(
      Object.keys(k).filter((c) => k[c] === 'numeric'),
      ['SeniorCitizen', 'tenure', 'MonthlyCharges', 'TotalCharges'],
    );
    assert.equal(r.schema.features.filter((f) => f.kind === 'categorical').length, 15);
    assert.deepEqual(r.schema.dropped, []);
    assert.match(formatInferredSchema(r), /TotalCharges\s+numeric\s+11\s+6530/);
  });

  it('Expresso sample: the preset kinds (MRG, constant in the sample, dropped)', async (t) => {
    const path = sharedFileOrSkip(t, realSamplePath(), 'expresso-sample.csv');
    if (!path) return;
    const r = await inferSchemaFromFile(path);
    assert.equal(r.schema.id, EXPRESSO_SCHEMA.id);
    assert.deepEqual(r.schema.target, EXPRESSO_SCHEMA.target);
    assert.deepEqual(r.schema.dropped, [{ column: 'MRG', reason: 'constant' }]);
    const preset = EXPRESSO_SCHEMA.features.filter((f) => f.name !== 'MRG').map((f) => [f.name, f.kind]);
    assert.deepEqual(
      r.schema.features.map((f) => [f.name, f.kind]),
      preset,
    );
  });
});
