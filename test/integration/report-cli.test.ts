import assert from 'node:assert/strict';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runReport } from '../../src/cli/commands/report.js';
import type { DriftReport } from '../../src/monitor/report.js';
import { reportCsv as csv } from '../helpers/report-csv.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';

/** Runs `churnwatch report` as a child process; resolves with its exit code and output, pass or fail. */
const cli = (args: string[]) => runCli(['report', ...args]);

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** The helper's CSV with `decision`: Yes where score ≥ 0.5, flipped on every 5th row (a business rule). */
const withDecision = (text: string, bad?: number) =>
  text
    .trimEnd()
    .split('\n')
    .map((line, i) => {
      if (i === 0) return `${line},decision`;
      if (i === bad) return `${line},0.7`;
      const yes = Number(line.split(',').at(-1)) >= 0.5 !== (i % 5 === 0);
      return `${line},${yes ? 'Yes' : 'No'}`;
    })
    .join('\n')
    .concat('\n');

describe('churnwatch report on two CSV files', () => {
  it('flags the shifted column, not the stable one, and writes JSON and self-contained HTML', async () => {
    await withTempDir(async (dir) => {
      const reference = join(dir, 'reference.csv');
      const current = join(dir, 'current.csv');
      await writeFile(reference, csv(4000, 1, 0));
      await writeFile(current, csv(1500, 2, 10));
      const jsonPath = join(dir, 'report.json');
      const htmlPath = join(dir, 'report.html');
      const result = await runReport({
        reference,
        current,
        target: 'label',
        score: 'score',
        threshold: 0.5,
        json: jsonPath,
        html: htmlPath,
      });
      const report = JSON.parse(await readFile(jsonPath, 'utf8')) as DriftReport;
      const byName = Object.fromEntries(report.features.map((f) => [f.feature, f]));
      assert.equal(byName.amount?.drifted, true);
      assert.equal(byName.calls?.drifted, false);
      assert.equal(byName.plan?.drifted, false);
      assert.equal(byName.label, undefined, 'the target is not a drift column');
      assert.ok(report.performance?.current?.metrics, 'performance is reported when target and score exist');
      assert.equal(report.performance.current.metrics.rows, 1500);
      assert.match(result.summary, /amount\s+numeric.*DRIFT/);
      const html = await readFile(htmlPath, 'utf8');
      assert.match(html, /<svg/);
      assert.doesNotMatch(html, /<script|<link|https?:\/\/|\bsrc=|@import|url\(/i);
    });
  });

  it('infers and reports the roles of id, time and label columns, writing and naming the JSON file', async () => {
    await withTempDir(async (dir) => {
      const [reference, current, json] = ['reference.csv', 'current.csv', 'report.json'].map((f) =>
        join(dir, f),
      );
      await writeFile(reference!, csv(600, 1, 0));
      await writeFile(current!, csv(300, 2, 10));
      const result = await cli(['--reference', reference!, '--current', current!, '--json', json!]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^ {2}id: id \(inferred: a distinct text value in every row\)$/m);
      assert.match(result.stdout, /^ {2}signup: timestamp \(inferred: ISO 8601 dates in 100 % of rows\)$/m);
      assert.match(
        result.stdout,
        /^ {2}label: target \(inferred: named like a target, two values \(0, 1\)\)$/m,
      );
      const report = JSON.parse(await readFile(json!, 'utf8')) as DriftReport;
      assert.deepEqual(report.features.map((f) => f.feature).sort(), [
        'amount',
        'calls',
        'pack',
        'plan',
        'region',
        'score',
      ]);
      assert.deepEqual(
        report.roles.map((r) => `${r.column}:${r.role}:${r.source}`),
        ['id:id:inferred', 'signup:timestamp:inferred', 'label:target:inferred'],
      );
      assert.match(
        result.stderr,
        new RegExp(`report written to ${json!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      );
    });
  });

  it('takes every role flag; --no-infer judges the rest; no file, no "report written"', async () => {
    await withTempDir(async (dir) => {
      const [reference, current] = ['reference.csv', 'current.csv'].map((f) => join(dir, f));
      await writeFile(reference!, withDecision(csv(400, 1, 0)));
      await writeFile(current!, withDecision(csv(300, 2, 0)));
      const flags = ['--target', 'label', '--score', 'score', '--prediction', 'decision', '--id', 'id'];
      const result = await cli([
        '--reference',
        reference!,
        '--current',
        current!,
        ...flags,
        '--timestamp',
        'signup',
        '--ignore',
        'pack, calls',
      ]);
      assert.equal(result.code, 0, result.stderr);
      for (const [column, flag] of [
        ['label', 'target'],
        ['score', 'score'],
        ['decision', 'prediction'],
        ['id', 'id'],
        ['signup', 'timestamp'],
        ['pack', 'ignore'],
        ['calls', 'ignore'],
      ])
        assert.match(result.stdout, new RegExp(`^ {2}${column}: \\w+ \\(given by --${flag}\\)$`, 'm'));
      assert.match(result.stdout, /feature columns compared: 3;/);
      assert.doesNotMatch(result.stderr, /report written/);

      const plain = await cli([
        '--reference',
        reference!,
        '--current',
        current!,
        '--no-infer',
        '--ignore',
        'id',
      ]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, /^ {2}id: ignored \(given by --ignore\)$/m);
      assert.match(plain.stdout, /^label\s+numeric/m, 'without inference the label is a feature');
      assert.match(plain.stdout, /^signup\s+categorical/m);
    });
  });

  it('fails with CW_REPORT_NO_COMMON_FEATURES when the files share no feature column, writing nothing', async () => {
    await withTempDir(async (dir) => {
      const [reference, current, html] = ['telco.csv', 'expresso.csv', 'r.html'].map((f) => join(dir, f));
      await writeFile(reference!, 'customerID,tenure,Churn\nA-1,3,No\nB-2,40,Yes\n');
      await writeFile(current!, 'user_id,REGION,CHURN\nx1,DAKAR,0\nx2,THIES,1\n');
      const result = await cli(['--reference', reference!, '--current', current!, '--html', html!]);
      assert.notEqual(result.code, 0);
      assert.match(
        result.stderr,
        /error CW_REPORT_NO_COMMON_FEATURES: telco\.csv and expresso\.csv have no feature/,
      );
      assert.match(result.stderr, /telco\.csv columns: customerID, tenure, Churn/);
      assert.match(result.stderr, /expresso\.csv columns: user_id, REGION, CHURN/);
      assert.match(result.stderr, /hint: /);
      assert.doesNotMatch(result.stderr, /report written/);
      assert.equal(await exists(html!), false);
    });
  });

  it('fails with CW_REPORT_EMPTY_FILE on a current file with no rows, or no bytes', async () => {
    await withTempDir(async (dir) => {
      const [reference, header, empty, json] = ['r.csv', 'header.csv', 'empty.csv', 'r.json'].map((f) =>
        join(dir, f),
      );
      await writeFile(reference!, csv(50, 1, 0));
      await writeFile(header!, 'id,amount\n');
      await writeFile(empty!, '');
      for (const current of [header!, empty!]) {
        const result = await cli(['--reference', reference!, '--current', current, '--json', json!]);
        assert.notEqual(result.code, 0);
        assert.match(
          result.stderr,
          new RegExp(`error CW_REPORT_EMPTY_FILE: .*${current.split('/').pop()} has no data rows`),
        );
        assert.doesNotMatch(result.stderr, /report written/);
        assert.equal(await exists(json!), false);
      }
    });
  });

  it('fails on a role flag naming no column, and on a column given two roles', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'r.csv');
      await writeFile(file, csv(50, 1, 0));
      const unknown = await cli(['--reference', file, '--current', file, '--timestamp', 'when']);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /CW_REPORT_UNKNOWN_COLUMN: --timestamp when: the column is in neither/);
      const twice = await cli(['--reference', file, '--current', file, '--id', 'id', '--ignore', 'id']);
      assert.notEqual(twice.code, 0);
      assert.match(twice.stderr, /CW_REPORT_BAD_OPTION: column id is given two roles: --id and --ignore/);
    });
  });

  it("--prediction: the model's Yes/No decisions are ŷ in the JSON and the summary; a value that is no class fails naming file, row and column", async () => {
    await withTempDir(async (dir) => {
      const [reference, current, broken, json] = ['r.csv', 'c.csv', 'broken.csv', 'r.json'].map((f) =>
        join(dir, f),
      );
      await writeFile(reference!, withDecision(csv(800, 1, 0)));
      await writeFile(current!, withDecision(csv(600, 2, 0)));
      await writeFile(broken!, withDecision(csv(600, 2, 0), 42));
      const roles = ['--target', 'label', '--score', 'score', '--prediction', 'decision'];
      const ok = await cli(['--reference', reference!, '--current', current!, ...roles, '--json', json!]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /performance, predicted class from column decision:/);
      const report = JSON.parse(await readFile(json!, 'utf8')) as DriftReport;
      const section = report.performance!.current!;
      assert.equal(report.performance!.prediction, 'decision');
      assert.equal(section.predictedClassFrom, 'prediction');
      const rows = (await readFile(current!, 'utf8')).trim().split('\n').slice(1);
      const yes = rows.filter((r) => r.endsWith(',Yes')).length;
      assert.equal(section.predictedPositiveRate, yes / rows.length);
      const c = section.metrics!.confusion;
      assert.equal(c.tp + c.fp, yes, 'predicted positives are the Yes rows, not score ≥ 0.5');
      const failed = await cli(['--reference', reference!, '--current', broken!, ...roles]);
      assert.notEqual(failed.code, 0);
      assert.match(
        failed.stderr,
        /error CW_REPORT_BAD_PREDICTION: broken\.csv data row 42, column decision: "0\.7" is not a predicted class/,
      );
    });
  });
});
