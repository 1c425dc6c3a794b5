import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCsvText } from '../data/csv-reader.js';
import { isChurnwatchError } from '../errors.js';
import { buildDriftReport, formatReportSummary } from './report.js';
import { assignColumnRoles, type RoleAssignment, type RoleOptions } from './report-roles.js';

/** A table from columns given as arrays of cell texts ('' = missing). */
function table(columns: Record<string, readonly (string | number)[]>) {
  const names = Object.keys(columns);
  const rows = columns[names[0]!]!.length;
  const lines = [names.join(',')];
  for (let i = 0; i < rows; i++) lines.push(names.map((n) => String(columns[n]![i])).join(','));
  return parseCsvText(`${lines.join('\n')}\n`, 'test.csv', { schema: 'infer' }).table;
}

const range = (n: number, f: (i: number) => string | number) => Array.from({ length: n }, (_, i) => f(i));

/** Roles of a table compared with itself, as `column → role (source)`. */
function roles(columns: Record<string, readonly (string | number)[]>, options: RoleOptions = {}) {
  const t = table(columns);
  return Object.fromEntries(
    assignColumnRoles(t, t, options).map((r: RoleAssignment) => [r.column, `${r.role} (${r.source})`]),
  );
}

const n = 40;
const amount = range(n, (i) => (1000 + 37.3 * i).toFixed(2));

describe('report column roles: inference', () => {
  it('recognises a distinct text value in every row as an id, not numbers or repeated text', () => {
    assert.deepEqual(
      roles({
        user_id: range(n, (i) => `a${i.toString(16)}f`),
        customerID: range(n, (i) => `${7590 + i}-VHVEG`),
        amount,
        plan: range(n, (i) => (i % 3 ? 'basic' : 'premium')),
      }),
      { user_id: 'id (inferred)', customerID: 'id (inferred)' },
    );
  });

  it('takes distinct integers as an id only under an id-like name', () => {
    assert.deepEqual(roles({ customer_id: range(n, (i) => 1000 + i), calls: range(n, (i) => i) }), {
      customer_id: 'id (inferred)',
    });
    assert.deepEqual(roles({ userId: range(n, (i) => i), ID: range(n, (i) => 5 * i) }), {
      userId: 'id (inferred)',
      ID: 'id (inferred)',
    });
  });

  it('infers no id from fewer than ten rows', () => {
    assert.deepEqual(roles({ code: ['a', 'b', 'c'], x: [1, 2, 3] }), {});
  });

  it('recognises ISO dates and times in nearly all rows as a timestamp, before any id', () => {
    const times = range(n, (i) => new Date(Date.UTC(2024, 0, 1) + i * 3.6e6).toISOString());
    const days = range(n, (i) => `2024-02-${String(1 + (i % 28)).padStart(2, '0')}`);
    const spaced = range(n, (i) => `2024-03-01 10:${String(i).padStart(2, '0')}:00`);
    const junk = range(n, (i) => (i % 5 === 0 ? 'soon' : days[i]!));
    assert.deepEqual(roles({ at: times, day: days, spaced, junk, amount }), {
      at: 'timestamp (inferred)',
      day: 'timestamp (inferred)',
      spaced: 'timestamp (inferred)',
    });
    // One missing value in 40 rows still counts as nearly all.
    const t = table({ at: times.map((v, i) => (i === 3 ? '' : v)), amount });
    const [role] = assignColumnRoles(t, t, {});
    assert.equal(role?.role, 'timestamp');
    assert.match(role!.reason, /ISO 8601 dates in 97\.5 % of rows/);
  });

  it('recognises epoch seconds and milliseconds under a time-like name, never plain numbers or other names', () => {
    const seconds = range(n, (i) => 1_700_000_000 + 3600 * i);
    const ms = range(n, (i) => 1_700_000_000_000 + 3_600_000 * i);
    assert.deepEqual(
      roles({
        timestamp: seconds,
        created_at: ms,
        eventTime: seconds,
        createdAt: ms,
        balance: seconds,
        amount,
      }),
      {
        timestamp: 'timestamp (inferred)',
        created_at: 'timestamp (inferred)',
        eventTime: 'timestamp (inferred)',
        createdAt: 'timestamp (inferred)',
      },
    );
    // Fractions, small numbers, or seconds mixed with milliseconds are no epoch times.
    assert.deepEqual(
      roles({
        time: range(n, (i) => 1_700_000_000.5 + i),
        date: range(n, (i) => 20240101 + i),
        ts: range(n, (i) => (i % 2 ? 1_700_000_000 : 1_700_000_000_000)),
        amount,
      }),
      {},
    );
    const t = table({ timestamp: seconds, amount });
    assert.match(
      assignColumnRoles(t, t, {})[0]!.reason,
      /named like a time, whole numbers in the epoch seconds range/,
    );
  });

  it('recognises NannyML car-loan columns: timestamp, id or identifier, y_pred_proba, y_pred', () => {
    const columns = {
      identifier: range(n, (i) => 60_000 + i),
      car_value: range(n, (i) => 20_000 + 97 * i),
      repaid: range(n, (i) => i % 2),
      timestamp: range(n, (i) => `2018-10-30 18:${String(i).padStart(2, '0')}:00.000`),
      y_pred_proba: range(n, (i) => ((i * 7) % 100) / 100),
      y_pred: range(n, (i) => (((i * 7) % 100) / 100 >= 0.5 ? 1 : 0)),
    };
    assert.deepEqual(roles(columns, { target: 'repaid' }), {
      repaid: 'target (option)',
      identifier: 'id (inferred)',
      timestamp: 'timestamp (inferred)',
      y_pred_proba: 'score (inferred)',
      y_pred: 'prediction (inferred)',
    });
    // A probability outside [0, 1] is not one; a column named score stays a feature.
    assert.deepEqual(
      roles({ y_pred_proba: range(n, (i) => i / 10), score: range(n, (i) => i / 100), amount }),
      {},
    );
  });

  it('recognises a two-valued column named like a target, case-insensitively, the first one only', () => {
    const binary = range(n, (i) => i % 2);
    const yesNo = range(n, (i) => (i % 4 ? 'No' : 'Yes'));
    for (const name of ['churn', 'CHURN', 'Target', 'label', 'class', 'y'])
      assert.deepEqual(roles({ [name]: binary, amount }), { [name]: 'target (inferred)' }, name);
    assert.deepEqual(roles({ Churn: yesNo, amount }), { Churn: 'target (inferred)' });
    assert.deepEqual(roles({ label: range(n, (i) => i % 3), is_churn: binary, amount }), {});
    assert.deepEqual(roles({ churn: binary, label: binary }), { churn: 'target (inferred)' });
  });

  it('says why', () => {
    const t = table({ CHURN: range(n, (i) => i % 2), user_id: range(n, (i) => `u${i}`), amount });
    assert.deepEqual(assignColumnRoles(t, t, {}), [
      {
        column: 'CHURN',
        role: 'target',
        source: 'inferred',
        reason: 'named like a target, two values (0, 1)',
      },
      { column: 'user_id', role: 'id', source: 'inferred', reason: 'a distinct text value in every row' },
    ]);
  });
});

describe('report column roles: options', () => {
  const columns = {
    uid: range(n, (i) => `u${i}`),
    at: range(n, (i) => `2024-01-${String(1 + (i % 28)).padStart(2, '0')}`),
    churn: range(n, (i) => i % 2),
    outcome: range(n, (i) => (i + 1) % 2),
    p: range(n, (i) => (i / n).toFixed(3)),
    predicted: range(n, (i) => (i > n / 2 ? 1 : 0)),
    note: range(n, (i) => `n${i % 7}`),
    amount,
  };

  it('gives each flag its role and infers only the roles no flag names', () => {
    assert.deepEqual(
      roles(columns, {
        target: 'outcome',
        score: 'p',
        prediction: 'predicted',
        id: 'uid',
        timestamp: 'at',
        ignore: ['note'],
      }),
      {
        outcome: 'target (option)',
        p: 'score (option)',
        predicted: 'prediction (option)',
        uid: 'id (option)',
        at: 'timestamp (option)',
        note: 'ignored (option)',
      },
      'with --target given, churn is a feature',
    );
    assert.deepEqual(roles(columns, { score: 'p' }), {
      p: 'score (option)',
      uid: 'id (inferred)',
      at: 'timestamp (inferred)',
      predicted: 'prediction (inferred)',
      churn: 'target (inferred)',
    });
  });

  it('infers nothing with infer: false', () => {
    assert.deepEqual(roles(columns, { ignore: ['note'], infer: false }), { note: 'ignored (option)' });
  });

  it('refuses a column in neither file, and one column given two roles', () => {
    const t = table(columns);
    const names = { reference: 'ref.csv', current: 'cur.csv' };
    assert.throws(
      () => assignColumnRoles(t, t, { ignore: ['nope'] }, names),
      (e: unknown) =>
        isChurnwatchError(e) &&
        e.code === 'CW_REPORT_UNKNOWN_COLUMN' &&
        /--ignore nope.*ref\.csv.*cur\.csv/.test(e.message) &&
        /uid, at, churn/.test(e.hint ?? ''),
    );
    assert.throws(
      () => assignColumnRoles(t, t, { target: 'churn', ignore: ['churn'] }),
      (e: unknown) =>
        isChurnwatchError(e) && e.code === 'CW_REPORT_BAD_OPTION' && /--target and --ignore/.test(e.message),
    );
  });
});

describe('report column roles in the report', () => {
  const reference = table({
    customerID: range(n, (i) => `c${i}`),
    Churn: range(n, (i) => (i % 4 ? 'No' : 'Yes')),
    amount,
  });

  it('leaves roles out of the features and says which it inferred in JSON and text', () => {
    const report = buildDriftReport(reference, reference, { referenceName: 'a.csv', currentName: 'b.csv' });
    assert.deepEqual(
      report.features.map((f) => f.feature),
      ['amount'],
    );
    assert.deepEqual(
      report.roles.map((r) => [r.column, r.role, r.source]),
      [
        ['customerID', 'id', 'inferred'],
        ['Churn', 'target', 'inferred'],
      ],
    );
    assert.equal(report.performance?.target, 'Churn');
    assert.equal(report.performance?.current?.positiveRate, 0.25, 'Yes/No read as 1/0');
    const text = formatReportSummary(report);
    assert.match(text, /feature columns compared: 1; not judged as features:/);
    assert.match(text, /customerID: id \(inferred: a distinct text value in every row\)/);
    assert.match(text, /Churn: target \(inferred: named like a target, two values \(No, Yes\)\)/);
  });

  it('refuses two tables with no feature column in common, naming both and their columns', () => {
    const other = table({ user_id: range(n, (i) => `u${i}`), tenure: range(n, (i) => i % 5) });
    assert.throws(
      () => buildDriftReport(reference, other, { referenceName: 'telco.csv', currentName: 'expresso.csv' }),
      (e: unknown) =>
        isChurnwatchError(e) &&
        e.code === 'CW_REPORT_NO_COMMON_FEATURES' &&
        e.message.includes('telco.csv columns: customerID, Churn, amount') &&
        e.message.includes('expresso.csv columns: user_id, tenure'),
    );
    // Shared columns that all have a role leave nothing to compare either.
    assert.throws(
      () => buildDriftReport(reference, reference, { ignore: ['amount'] }),
      (e: unknown) => isChurnwatchError(e) && e.code === 'CW_REPORT_NO_COMMON_FEATURES',
    );
  });
});
