/**
 * Statistics benchmarks.
 * 1. Drift for 17 features (13 numeric with 5,000-value reference samples, 4 categorical) over one
 *    100k-row window: binning the table + every statistic + the policy. Goal ≤ 100 ms.
 * 2. KS on 1M vs 1M values, against SciPy's ks_2samp on the same data (run from here). Goal ≤ 1 s.
 * Run: node --import tsx bench/stats.bench.ts. The machine may be shared: figures are noisy.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Column, ColumnarTable } from '../src/data/columnar-table.js';
import { createRng } from '../src/data/rng.js';
import { evaluateDrift, windowFromTable } from '../src/monitor/drift-policy.js';
import { buildTableProfile } from '../src/monitor/report.js';
import { calibrateDriftThresholds } from '../src/monitor/threshold-calibration.js';
import { ksTest } from '../src/stats/ks-test.js';

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

function table(rows: number, seed: number, shift: number): ColumnarTable {
  const rng = createRng(seed);
  const columns = new Map<string, Column>();
  const header: string[] = [];
  for (let f = 0; f < 13; f++) {
    const values = new Float64Array(rows);
    for (let i = 0; i < rows; i++)
      values[i] = rng.next() < 0.3 ? Number.NaN : Math.exp(1 + (f % 4) * 0.5 + rng.normal() + shift);
    columns.set(`num${f}`, { kind: 'numeric', name: `num${f}`, values });
    header.push(`num${f}`);
  }
  const dictionary = Array.from({ length: 40 }, (_, i) => `cat${i}`);
  for (let f = 0; f < 4; f++) {
    const codes = new Int32Array(rows);
    for (let i = 0; i < rows; i++) codes[i] = rng.next() < 0.1 ? -1 : Math.floor(40 * rng.next() ** 2);
    columns.set(`cat${f}`, { kind: 'categorical', name: `cat${f}`, codes, dictionary });
    header.push(`cat${f}`);
  }
  return { rowCount: rows, header, columns };
}

function time<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

const reference = table(200000, 1, 0);
const profile = buildTableProfile(reference, reference.header, { sampleSize: 5000, rng: createRng(2) });
const window = table(100000, 3, 0.05);
evaluateDrift(profile, windowFromTable(profile, table(2000, 9, 0))); // warm-up
const driftRuns = Array.from(
  { length: 5 },
  () => time(() => evaluateDrift(profile, windowFromTable(profile, window))).ms,
);
const driftMs = Math.min(...driftRuns);

const calibration = time(() =>
  calibrateDriftThresholds(profile, table(50000, 4, 0), {
    windowSize: 1000,
    windows: 200,
    rng: createRng(5),
  }),
);

// KS 1M vs 1M
const n = 1_000_000;
const rng = createRng(7);
const a = new Float64Array(n);
const b = new Float64Array(n);
for (let i = 0; i < n; i++) {
  a[i] = rng.normal();
  b[i] = rng.normal() + 0.002;
}
const ks = time(() => ksTest(a, b));
const dir = join(tmpdir(), `churnwatch-ksbench-${process.pid}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'a.bin'), Buffer.from(a.buffer));
writeFileSync(join(dir, 'b.bin'), Buffer.from(b.buffer));
const python = spawnSync(
  '/usr/bin/python3',
  [
    '-c',
    `import numpy as np, time, json
from scipy.stats import ks_2samp
a=np.fromfile('${join(dir, 'a.bin')}'); b=np.fromfile('${join(dir, 'b.bin')}')
t=time.perf_counter(); r=ks_2samp(a,b); ms=(time.perf_counter()-t)*1000
print(json.dumps({"ms":ms,"statistic":float(r.statistic),"pvalue":float(r.pvalue)}))`,
  ],
  { encoding: 'utf8' },
);
rmSync(dir, { recursive: true, force: true });
const scipy =
  python.status === 0
    ? (JSON.parse(python.stdout) as { ms: number; statistic: number; pvalue: number })
    : undefined;

const figures = {
  driftAll17Features100kRowsMs: driftMs,
  driftGoalMs: 100,
  calibration200Windows1000Rows17FeaturesMs: calibration.ms,
  ks1Mvs1MMs: ks.ms,
  ksGoalMs: 1000,
  scipyKs1Mvs1MMs: scipy?.ms ?? null,
  ksSpeedRatioVsScipy: scipy ? scipy.ms / ks.ms : null,
  ksAgreesWithScipy: scipy
    ? scipy.statistic === ks.value.statistic &&
      Math.abs(scipy.pvalue - ks.value.pValue) <= 1e-6 * Math.max(scipy.pvalue, 1e-300)
    : null,
  note: 'single run on a 2-core machine shared with other work; treat as indicative',
};
console.table({
  'drift, 17 features, 100k-row window': { ms: driftMs.toFixed(1), goal: '≤ 100' },
  'calibration, 200 × 1,000-row windows': { ms: calibration.ms.toFixed(0), goal: 'a few s' },
  'KS 1M vs 1M (churnwatch)': { ms: ks.ms.toFixed(0), goal: '≤ 1000' },
  'KS 1M vs 1M (SciPy ks_2samp)': {
    ms: scipy ? scipy.ms.toFixed(0) : 'n/a',
    goal: `ratio ${figures.ksSpeedRatioVsScipy?.toFixed(2) ?? 'n/a'}× (SciPy/ours)`,
  },
});
if (!scipy) console.error(`SciPy baseline failed: ${python.stderr}`);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'stats.json'), `${JSON.stringify(figures, null, 2)}\n`);
