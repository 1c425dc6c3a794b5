/**
 * The offline report on tables that are not Expresso: the generated table with awkward column names
 * (test/helpers/generic-data.ts) and the real Telco file (../shared/data/telco; required under CI=true).
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runReport } from '../../src/cli/commands/report.js';
import { generateGenericData, genericCsvText } from '../helpers/generic-data.js';
import { sharedFileOrSkip, telcoPath } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';

const roleOf = (report: Awaited<ReturnType<typeof runReport>>['report'], column: string) =>
  report.roles.find((r) => r.column === column)?.role;

describe('report on non-Expresso tables', () => {
  it('generic table: the id and Yes/No target are recognised, the scaled column drifts, awkward names survive', async () => {
    await withTempDir(async (dir) => {
      const reference = generateGenericData({ rows: 3000, numeric: 6, categorical: 4, seed: 1 });
      const current = generateGenericData({ rows: 3000, numeric: 6, categorical: 4, seed: 2 });
      for (const r of current.records) {
        const v = r['Monthly-Charges'];
        if (typeof v === 'number') r['Monthly-Charges'] = Math.round(v * 300) / 100;
      }
      const ref = join(dir, 'reference.csv');
      const cur = join(dir, 'current.csv');
      await writeFile(ref, genericCsvText(reference));
      await writeFile(cur, genericCsvText(current));
      // "score" is a feature here, not the model's score: name the roles that are not features.
      const result = await runReport({
        reference: ref,
        current: cur,
        target: 'Churn',
        id: 'customerID',
        ignore: [],
        json: join(dir, 'report.json'),
      });
      const { report } = result;
      assert.equal(roleOf(report, 'customerID'), 'id');
      assert.equal(roleOf(report, 'Churn'), 'target');
      const names = report.features.map((f) => f.feature);
      for (const name of [
        'tenure months',
        'Monthly-Charges',
        '2024_spend',
        'Total Charges',
        'payment method',
        'id',
      ])
        assert.ok(names.includes(name), `${name} judged (judged: ${names.join(', ')})`);
      const drifted = report.features.filter((f) => f.drifted).map((f) => f.feature);
      assert.ok(drifted.includes('Monthly-Charges'), `drifted: ${drifted.join(', ')}`);
      assert.ok(drifted.length <= 2, `drifted: ${drifted.join(', ')}`);
      const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
      assert.ok(json.features.some((f: { feature: string }) => f.feature === 'tenure months'));
    });
  });

  it('Telco: two halves of the real file, roles inferred, blank TotalCharges counted as missing', async (t) => {
    const path = sharedFileOrSkip(t, telcoPath(), 'telco/telco-customer-churn.csv');
    if (!path) return;
    await withTempDir(async (dir) => {
      const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
      const header = lines[0]!;
      const rows = lines.slice(1);
      const half = Math.floor(rows.length / 2);
      const ref = join(dir, 'telco-first.csv');
      const cur = join(dir, 'telco-second.csv');
      await writeFile(ref, `${[header, ...rows.slice(0, half)].join('\n')}\n`);
      await writeFile(cur, `${[header, ...rows.slice(half)].join('\n')}\n`);
      const { report, summary } = await runReport({ reference: ref, current: cur });
      assert.equal(roleOf(report, 'customerID'), 'id', summary);
      assert.equal(roleOf(report, 'Churn'), 'target', summary);
      const judged = report.features.map((f) => f.feature);
      for (const name of ['tenure', 'MonthlyCharges', 'Contract', 'PaymentMethod', 'SeniorCitizen'])
        assert.ok(judged.includes(name), `${name} judged (judged: ${judged.join(', ')})`);
      // Halves of one file in its own order: no column drifts much.
      const drifted = report.features.filter((f) => f.drifted).map((f) => f.feature);
      assert.ok(drifted.length <= 3, `drifted: ${drifted.join(', ')}`);
      assert.ok(report.performance === undefined || typeof report.performance === 'object');
    });
  });
});
