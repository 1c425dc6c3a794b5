import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runReport } from '../../src/cli/commands/report.js';
import { createRng } from '../../src/data/rng.js';
import type { DriftReport } from '../../src/monitor/report.js';
import { withTempDir } from '../helpers/temp-dir.js';

/** A small CSV: `amount` normal (mean shifted by `shift`), `calls` stable, `plan` categorical, label + score. */
function csv(rows: number, seed: number, shift: number): string {
  const rng = createRng(seed);
  const lines = ['id,amount,calls,plan,label,score'];
  for (let i = 0; i < rows; i++) {
    const amount = (100 + shift + 15 * rng.normal()).toFixed(2);
    const calls = Math.max(0, Math.round(20 + 5 * rng.normal()));
    const plan = rng.next() < 0.6 ? 'basic' : 'premium';
    const score = rng.next();
    const label = rng.next() < score ? 1 : 0;
    lines.push(`u${i},${amount},${calls},${plan},${label},${score.toFixed(4)}`);
  }
  return `${lines.join('\n')}\n`;
}

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
});
