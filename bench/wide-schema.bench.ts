/**
 * Serving a wide model (issue 17): a 200-feature generated model (100 numeric + 100 categorical) against
 * Expresso's 17, each behind the real app (SQLite store, the in-process monitor, as `churnwatch serve`
 * runs) on a loopback port:
 *   - GET /metrics after 10,000 scored records: bytes, series (all, and churnwatch_* ones), and the
 *     scrape time (median and max of 20 scrapes in a row, fetch from this process)
 *   - the per-record canonicalisation of /predict (record-fields.ts) at 17, 200 and 1,000 features
 * Usage: node --import tsx bench/wide-schema.bench.ts   (figures in bench/results/wide-schema.json)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawFeatures } from '../src/data/feature-types.js';
import type { ChurnModel } from '../src/model/churn-model.js';
import { loadModel } from '../src/model/model-io.js';
import { createLiveMonitor } from '../src/monitor/live-monitor.js';
import { buildApp } from '../src/server/build-app.js';
import { recordFieldsOf } from '../src/server/record-fields.js';
import { createBatchedWriter } from '../src/store/batched-writer.js';
import { openStore } from '../src/store/open-store.js';
import { generateGenericData, genericSchema } from '../test/helpers/generic-data.js';
import { customerRequests } from '../test/helpers/server-harness.js';
import { trainGenericModel } from '../test/helpers/train-generic-model.js';
import { trainSmallModel } from '../test/helpers/train-small-model.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const RECORDS = 10_000;
const BATCH = 500;
const SCRAPES = 20;

const median = (v: readonly number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

async function metricsOf(model: ChurnModel, requests: readonly object[], work: string) {
  const store = openStore(`sqlite:${join(work, `${model.info.version}.db`)}`);
  await store.migrate();
  const app = await buildApp({
    store,
    model,
    createWriter: createBatchedWriter,
    logger: false,
    docs: false,
    periodicJoin: false,
    observer: createLiveMonitor(),
    config: { batchLimit: BATCH },
  });
  try {
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    for (let i = 0; i < RECORDS; i += BATCH) {
      const records = Array.from({ length: BATCH }, (_, j) => requests[(i + j) % requests.length]);
      const res = await fetch(`${base}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ records }),
      });
      if (res.status !== 200) throw new Error(`predict: ${res.status} ${await res.text()}`);
    }
    await app.churnwatch.context.writer.flush();
    const times: number[] = [];
    let text = '';
    for (let i = 0; i < SCRAPES; i++) {
      const t0 = performance.now();
      text = await (await fetch(`${base}/metrics`)).text();
      times.push(performance.now() - t0);
    }
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    return {
      features: model.schema.features.length,
      metrics_bytes: Buffer.byteLength(text),
      metrics_series: lines.length,
      churnwatch_series: lines.filter((l) => l.startsWith('churnwatch_')).length,
      feature_values_series: lines.filter((l) => l.startsWith('churnwatch_feature_values_total{')).length,
      largest_metrics: largestMetrics(lines),
      scrape_median_ms: Number(median(times).toFixed(2)),
      scrape_max_ms: Number(Math.max(...times).toFixed(2)),
    };
  } finally {
    await app.close();
    await store.close();
  }
}

/** The five metric names with the most series, and their counts (histograms by base name). */
function largestMetrics(lines: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const name = line.slice(0, line.search(/[{ ]/)).replace(/_(bucket|sum|count)$/, '');
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).slice(0, 5));
}

/** ns per record of record-fields' canonical(), over records carrying every feature. */
function canonicalNs(numeric: number, categorical: number): number {
  const schema = genericSchema(numeric, categorical);
  const fields = recordFieldsOf(schema);
  const { records } = generateGenericData({ rows: 500, numeric, categorical, seed: 3 });
  let sink = 0;
  const run = (reps: number) => {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < reps; k++)
      for (const r of records) if (fields.canonical(r as RawFeatures, 'body') !== null) sink++;
    return Number(process.hrtime.bigint() - t0) / (reps * records.length);
  };
  const reps = Math.max(1, Math.round(4000 / (numeric + categorical)));
  run(reps);
  const times = Array.from({ length: 9 }, () => run(reps));
  if (sink === 0) throw new Error('unreachable');
  return Math.round(median(times));
}

const work = mkdtempSync(join(tmpdir(), 'churnwatch-wide-bench-'));
try {
  const wide = await trainGenericModel(work, {
    rows: 3000,
    numeric: 100,
    categorical: 100,
    seed: 5,
    trees: 5,
  });
  const wideModel = await loadModel(wide.modelDir);
  const expresso = await loadModel(join(await trainSmallModel(), 'latest'));
  const figures = {
    wide_200: await metricsOf(wideModel, wide.data.records, work),
    expresso_17: await metricsOf(expresso, customerRequests(2000, 3), work),
    canonical_ns_per_record: {
      // 15 numeric + 2 categorical: Expresso's widths, the generic names.
      features_17: canonicalNs(15, 2),
      features_200: canonicalNs(100, 100),
      features_1000: canonicalNs(500, 500),
    },
  };
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  writeFileSync(join(benchDir, 'results', 'wide-schema.json'), `${JSON.stringify(figures, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
