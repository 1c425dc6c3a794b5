/**
 * Soak (issue 19, retention): `churnwatch serve` (a child process, bin/churnwatch.js: the sources in a
 * checkout) with retention on a short span, under mixed traffic from this process for SOAK_MINUTES
 * (default 10): POST /predict batches at a fixed rate, POST /feedback for a share of them after a
 * delay (by prediction id, some by user, a few for ids that never come, which expire), a dashboard
 * read now and then. Every SOAK_SAMPLE_SECONDS the server's RSS (/proc) and the store's size and
 * oldest prediction (its own gauges) are sampled. Once the store holds a full span (warm-up: the span
 * plus a minute), the store's size and the RSS must stay flat: the end over the middle of that phase,
 * each the median of three samples, at most SOAK_FLAT (1.10). Prints start, middle and end, writes
 * every sample to bench/results/soak.json, and exits 1 when not flat, when the oldest prediction
 * kept is more than 30 s older than the span, or when a request failed.
 * Usage: npm run bench -- soak
 *   SOAK_MINUTES (10), SOAK_RETENTION (default a fifth of the run, at least 1m; e.g. 2m),
 *   SOAK_RATE (predictions/s, 400), SOAK_SAMPLE_SECONDS (10), SOAK_FLAT (1.10),
 *   SOAK_STORE=postgres for PostgreSQL (a fresh schema on CHURNWATCH_TEST_POSTGRES_URL's server,
 *   default the local one), SOAK_ROOT=/path/to/checkout to soak another checkout's serve.
 * The machine is shared: the load generator and anything else running take the same two cores.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parseDuration } from '../src/monitor/chunks.js';
import { customerRequests, parseMetrics, sumSeries } from '../test/helpers/server-harness.js';
import { trainSmallModel } from '../test/helpers/train-small-model.js';
import { startServeChild } from './serve-child.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = process.env.SOAK_ROOT ?? join(benchDir, '..');
const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const durationS = Math.round(minutes * 60);
const retention = process.env.SOAK_RETENTION ?? `${Math.max(60, Math.round(durationS / 5))}s`;
const retentionS = (parseDuration(retention) ?? Number.NaN) / 1000;
const rate = Number(process.env.SOAK_RATE ?? 400);
const sampleS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 10);
const flat = Number(process.env.SOAK_FLAT ?? 1.1);
const backend = process.env.SOAK_STORE === 'postgres' ? 'postgres' : 'sqlite';
const pgUrl =
  process.env.CHURNWATCH_TEST_POSTGRES_URL ??
  `postgres://${process.env.PGUSER ?? 'postgres'}@127.0.0.1:5432/test`;
const port = 19_000 + (process.pid % 1000);
const base = `http://127.0.0.1:${port}`;
/** Records per POST /predict. */
const BATCH = 25;
/** Share of predictions that get feedback, and after how long (the label delay). */
const LABELLED = 0.3;
const LABEL_DELAY_MS = 20_000;
/** Share of feedback items naming a prediction that never comes (pending, then expired). */
const UNKNOWN = 0.03;
/** Pending feedback expires after this: unjoinable items must not grow the store either. */
const PENDING_TTL = '1m';

if (!(durationS > 0 && retentionS >= 60 && rate > 0 && sampleS > 0))
  throw new Error(
    `bad settings: SOAK_MINUTES ${minutes}, SOAK_RETENTION ${retention} (at least 1m), SOAK_RATE ${rate}, SOAK_SAMPLE_SECONDS ${sampleS}`,
  );
const warmupS = retentionS + 60;
if (durationS < warmupS + 6 * sampleS)
  throw new Error(
    `a ${durationS} s soak leaves too little after the warm-up (retention ${retentionS} s + 60 s) for the samples`,
  );

interface Sample {
  /** Seconds since the traffic started. */
  readonly t: number;
  readonly rssBytes: number;
  readonly storeBytes: number;
  /** Now minus the oldest prediction kept, s. */
  readonly oldestAgeS: number;
  readonly deletedPredictions: number;
  readonly pending: number;
  readonly load: number;
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/** The server logs at `error`: the expiry of the unjoinable items is a warning every join interval. */
function startServe(model: string, store: string): Promise<ChildProcess> {
  const args = ['--model', model, '--store', store, '--port', String(port), '--host', '127.0.0.1'];
  return startServeChild(
    root,
    [...args, '--retention', retention, '--pending-feedback-ttl', PENDING_TTL],
    base,
    'error',
  );
}

/** The mixed traffic: predictions at `rate`, their feedback after a delay; counts what failed. */
function traffic() {
  const pool = customerRequests(4000, 23);
  let next = 0;
  let seq = 0;
  const due: { at: number; id: string; user: string }[] = [];
  const counts = { predictions: 0, feedback: 0, failed: 0, inFlight: 0 };
  let stopped = false;
  const send = async (path: string, body: unknown) => {
    counts.inFlight++;
    try {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await res.json()) as { predictions?: { prediction_id: string }[] };
      if (!res.ok) counts.failed++;
      return answer;
    } catch {
      counts.failed++;
      return {};
    } finally {
      counts.inFlight--;
    }
  };
  const predict = async () => {
    const records = Array.from({ length: BATCH }, () => pool[next++ % pool.length]!);
    const answer = await send('/predict', { records });
    const now = Date.now();
    answer.predictions?.forEach((p, k) => {
      counts.predictions++;
      if (Math.random() < LABELLED)
        due.push({ at: now + LABEL_DELAY_MS, id: p.prediction_id, user: String(records[k]!.user_id) });
    });
  };
  const feedback = async () => {
    const now = Date.now();
    let n = 0;
    while (n < due.length && due[n]!.at <= now) n++;
    const items = due
      .splice(0, n)
      .map((d, k) =>
        k % 5 === 4
          ? { user_id: d.user, churn: k % 2 }
          : { prediction_id: Math.random() < UNKNOWN ? `never-${seq++}` : d.id, churn: k % 2 },
      );
    for (let i = 0; i < items.length; i += 1000) {
      const records = items.slice(i, i + 1000);
      await send('/feedback', { records });
      counts.feedback += records.length;
    }
  };
  const timers = [
    // Skipped while too many requests wait: an overloaded machine slows the soak, it does not pile up.
    setInterval(
      () => {
        if (!stopped && counts.inFlight < 64) void predict();
      },
      1000 / (rate / BATCH),
    ),
    setInterval(() => {
      if (!stopped) void feedback();
    }, 1000),
    setInterval(() => {
      if (!stopped)
        void fetch(`${base}/dashboard/data.json`).then(
          (r) => r.arrayBuffer(),
          () => counts.failed++,
        );
    }, 15_000),
  ];
  return {
    counts,
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      while (counts.inFlight > 0) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
/** The median of the samples around index i (three, fewer at the ends). */
function smoothed(samples: readonly Sample[], i: number, key: 'rssBytes' | 'storeBytes'): number {
  const near = samples.slice(Math.max(0, i - 1), i + 2).map((s) => s[key]);
  near.sort((a, b) => a - b);
  return near[Math.floor(near.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'churnwatch-soak-'));
  let schema: string | undefined;
  let store = `sqlite:${join(dir, 'soak.db')}`;
  if (backend === 'postgres') {
    schema = `cw_soak_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    store = `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  }
  const models = await trainSmallModel();
  const server = await startServe(join(models, 'latest'), store);
  const pid = server.pid!;
  const samples: Sample[] = [];
  const load = traffic();
  const started = Date.now();
  console.log(
    `soak: ${backend}, ${durationS} s, retention ${retention}, ${rate} predictions/s (batches of ${BATCH}), ` +
      `${LABELLED * 100} % labelled after ${LABEL_DELAY_MS / 1000} s, a sample every ${sampleS} s; serve from ${root}`,
  );
  try {
    for (let k = 1; k * sampleS <= durationS; k++) {
      await new Promise((r) => setTimeout(r, started + k * sampleS * 1000 - Date.now()));
      const m = parseMetrics(await (await fetch(`${base}/metrics`)).text());
      const oldest = sumSeries(m, 'churnwatch_store_oldest_prediction_timestamp_seconds');
      const sample: Sample = {
        t: (Date.now() - started) / 1000,
        rssBytes: rssBytes(pid),
        storeBytes: sumSeries(m, 'churnwatch_store_size_bytes'),
        oldestAgeS: oldest > 0 ? Date.now() / 1000 - oldest : 0,
        deletedPredictions: sumSeries(m, 'churnwatch_store_retention_deleted_total', 'kind="prediction"'),
        pending: sumSeries(m, 'churnwatch_feedback_pending'),
        load: loadavg()[0]!,
      };
      samples.push(sample);
      console.log(
        `t=${sample.t.toFixed(0).padStart(4)} s  rss ${mb(sample.rssBytes).padStart(9)}  store ${mb(sample.storeBytes).padStart(9)}  ` +
          `oldest ${sample.oldestAgeS.toFixed(0).padStart(4)} s old  deleted ${sample.deletedPredictions.toLocaleString('en')}  ` +
          `pending ${sample.pending}  sent ${load.counts.predictions.toLocaleString('en')} predictions, ${load.counts.feedback.toLocaleString('en')} feedback  load ${sample.load.toFixed(2)}`,
      );
    }
  } finally {
    await load.stop();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
    if (schema) {
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  }

  const steady = samples.filter((s) => s.t >= warmupS);
  const first = samples.indexOf(steady[0]!);
  const points = {
    start: first,
    middle: first + Math.floor((steady.length - 1) / 2),
    end: samples.length - 1,
  };
  const figures = Object.fromEntries(
    Object.entries(points).map(([name, i]) => [
      name,
      {
        t: samples[i]!.t,
        rssBytes: smoothed(samples, i, 'rssBytes'),
        storeBytes: smoothed(samples, i, 'storeBytes'),
      },
    ]),
  ) as Record<keyof typeof points, { t: number; rssBytes: number; storeBytes: number }>;
  const ratio = (key: 'rssBytes' | 'storeBytes') => figures.end[key] / figures.middle[key];
  console.log(
    `\nsteady phase (from ${warmupS} s: the retention span plus a minute), medians of three samples:`,
  );
  for (const [name, f] of Object.entries(figures))
    console.log(
      `  ${name.padEnd(6)} t=${f.t.toFixed(0).padStart(4)} s  rss ${mb(f.rssBytes)}  store ${mb(f.storeBytes)}`,
    );
  const rssRatio = ratio('rssBytes');
  const storeRatio = ratio('storeBytes');
  const oldestMax = Math.max(...steady.map((s) => s.oldestAgeS));
  console.log(
    `  end/middle: rss ${rssRatio.toFixed(3)}, store ${storeRatio.toFixed(3)} (flat: at most ${flat}); ` +
      `end/start: rss ${(figures.end.rssBytes / figures.start.rssBytes).toFixed(3)}, store ${(figures.end.storeBytes / figures.start.storeBytes).toFixed(3)}; ` +
      `oldest prediction at most ${oldestMax.toFixed(0)} s old (span ${retentionS} s); failed requests ${load.counts.failed}`,
  );
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  writeFileSync(
    join(benchDir, 'results', 'soak.json'),
    `${JSON.stringify({ backend, durationS, retention, rate, warmupS, figures, rssRatio, storeRatio, samples }, null, 2)}\n`,
  );
  console.log('figures written to bench/results/soak.json');
  // Retention keeps up: nothing older than the span plus a few passes (every 5 s) and a sample.
  const ok =
    rssRatio <= flat && storeRatio <= flat && load.counts.failed === 0 && oldestMax <= retentionS + 30;
  console.log(ok ? 'flat: yes' : 'NOT FLAT (or requests failed)');
  process.exitCode = ok ? 0 : 1;
}

await main();
