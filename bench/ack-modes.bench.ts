/**
 * The two acknowledgement modes of `churnwatch serve` side by side (docs/feedback.md, "Durability"):
 * `--ack queued` (the default: answered once queued, written within the flush interval) and
 * `--ack commit` (answered once the store committed the prediction's batch). Both servers run at once
 * from the sources (tsx), on SQLite files and then on fresh PostgreSQL databases; in each of three
 * rounds they take turns (the order rotating) through:
 *   - POST /predict, one record, wrk at full speed over 32 connections: answers/s and p99
 *   - the same at a fixed 2,000 req/s (hey, 50 connections; the rate of issue 19's crash test): p50, p99
 *   - one client, each request sent when the last is answered (hey -c 1): p50, p99 (what a lone
 *     client waits: in commit mode one write, not the flush interval)
 *   - batches of 1,000 records, wrk over 4 connections: records/s
 * Each commit/queued ratio is of two runs in the same round. No goal: the price of the stronger promise.
 * Usage: node --import tsx bench/ack-modes.bench.ts   (CHURNWATCH_BENCH_SECONDS=10 by default; wrk, hey)
 * The load generators share the two cores with the servers (and PostgreSQL): figures are a floor.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { customerRequests } from '../test/helpers/server-harness.js';
import { trainSmallModel } from '../test/helpers/train-small-model.js';
import { type FixedRateResult, heyFixedRate, heyPostRequests } from './hey.js';
import { median, rotate, seconds, startServer, waitForDrain, withFreshDatabases, wrk } from './serve-load.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const ROUNDS = 3;
const FIXED_RATE = 2000;
const LONE_CLIENT_REQUESTS = 2000;
const MODES = ['queued', 'commit'] as const;
type Mode = (typeof MODES)[number];

interface ModeRun {
  readonly single: ReturnType<typeof wrk>;
  readonly fixed: FixedRateResult;
  readonly lone: FixedRateResult;
  readonly batch: ReturnType<typeof wrk>;
}

/** One round's runs of one server; waits for its queue to drain after each load. */
async function measure(base: string, single: string, batch: string, work: string): Promise<ModeRun> {
  const url = `${base}/predict`;
  const singleRun = wrk(url, single, 32, work);
  await waitForDrain(base);
  const fixed = heyFixedRate(url, single, FIXED_RATE, seconds, work);
  await waitForDrain(base);
  const lone = heyPostRequests(url, single, LONE_CLIENT_REQUESTS, 1, work);
  await waitForDrain(base);
  const batchRun = wrk(url, batch, 4, work);
  await waitForDrain(base);
  return { single: singleRun, fixed, lone, batch: batchRun };
}

/** Both modes on stores from `storeUrl(mode)`, alternating; the rounds' runs per mode. */
async function compare(
  name: string,
  storeUrl: (mode: Mode) => string,
  modelDir: string,
  port: number,
  work: string,
): Promise<Record<Mode, ModeRun[]>> {
  const servers = await Promise.all(
    MODES.map((mode, i) =>
      startServer(
        [
          '--import',
          'tsx',
          join(root, 'src', 'cli', 'main.ts'),
          'serve',
          '--port',
          String(port + i),
          '--host',
          '127.0.0.1',
          '--model',
          modelDir,
          '--store',
          storeUrl(mode),
          '--ack',
          mode,
        ],
        { CHURNWATCH_LOG_LEVEL: 'info' },
        port + i,
        join(work, `${name}-${mode}.log`),
      ),
    ),
  );
  const single = JSON.stringify(customerRequests(1, 5)[0]);
  const batch = JSON.stringify({ records: customerRequests(1000, 6) });
  const runs: Record<Mode, ModeRun[]> = { queued: [], commit: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const i of rotate([0, 1], round)) {
        const mode = MODES[i]!;
        process.stdout.write(`${name} round ${round + 1}: ${mode}\n`);
        runs[mode].push(await measure(`http://127.0.0.1:${port + i}`, single, batch, work));
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  return runs;
}

/** The figures of one backend: per mode the rounds' values, and the per-round commit/queued ratios. */
function summarise(runs: Record<Mode, ModeRun[]>) {
  const of = (mode: Mode) => ({
    single_rps: runs[mode].map((r) => Math.round(r.single.okRps)),
    single_p99_ms: runs[mode].map((r) => r.single.p99),
    single_non2xx: runs[mode].reduce((n, r) => n + r.single.non2xx, 0),
    fixed_rate_rps: runs[mode].map((r) => Math.round(r.fixed.rps)),
    fixed_rate_p50_ms: runs[mode].map((r) => r.fixed.p50),
    fixed_rate_p99_ms: runs[mode].map((r) => r.fixed.p99),
    fixed_rate_non200: runs[mode].reduce((n, r) => n + r.fixed.non200, 0),
    lone_client_p50_ms: runs[mode].map((r) => r.lone.p50),
    lone_client_p99_ms: runs[mode].map((r) => r.lone.p99),
    batch_records_per_s: runs[mode].map((r) => Math.round(r.batch.okRps * 1000)),
    batch_non2xx: runs[mode].reduce((n, r) => n + r.batch.non2xx, 0),
  });
  const ratio = (pick: (r: ModeRun) => number) => {
    const rounds = runs.commit.map((c, i) => pick(c) / pick(runs.queued[i]!));
    return { rounds: rounds.map((x) => Number(x.toFixed(3))), median: Number(median(rounds).toFixed(3)) };
  };
  return {
    queued: of('queued'),
    commit: of('commit'),
    commit_vs_queued: {
      single_rps: ratio((r) => r.single.okRps),
      single_p99: ratio((r) => r.single.p99),
      fixed_rate_p99: ratio((r) => r.fixed.p99),
      lone_client_p50: ratio((r) => r.lone.p50),
      batch_records_per_s: ratio((r) => r.batch.okRps),
    },
  };
}

function report(name: string, figures: ReturnType<typeof summarise>): void {
  const list = (xs: readonly number[], digits = 1) => xs.map((x) => x.toFixed(digits)).join(', ');
  process.stdout.write(`\n${name}\n`);
  for (const mode of MODES) {
    const f = figures[mode];
    process.stdout.write(
      `  ${mode.padEnd(6)}  single ${f.single_rps.join(', ')} req/s (p99 ${list(f.single_p99_ms)} ms)` +
        `; at ${FIXED_RATE}/s p50 ${list(f.fixed_rate_p50_ms)} p99 ${list(f.fixed_rate_p99_ms)} ms` +
        `; lone client p50 ${list(f.lone_client_p50_ms, 2)} p99 ${list(f.lone_client_p99_ms, 2)} ms` +
        `; batches ${f.batch_records_per_s.join(', ')} records/s` +
        `; not 200: ${f.single_non2xx + f.fixed_rate_non200 + f.batch_non2xx}\n`,
    );
  }
  for (const [what, r] of Object.entries(figures.commit_vs_queued))
    process.stdout.write(`  commit/queued ${what.padEnd(20)} ${r.median} (rounds ${r.rounds.join(', ')})\n`);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'churnwatch-bench-ack-'));
  try {
    // The model `churnwatch train` makes by default, as in the server benchmark.
    const modelDir = join(await trainSmallModel(50_000, 11), 'latest');
    const port = 19000 + Math.floor(Math.random() * 1000);
    const sqlite = summarise(
      await compare('sqlite', (mode) => `sqlite:${join(work, `${mode}.db`)}`, modelDir, port, work),
    );
    report('SQLite', sqlite);
    const postgresRuns = await withFreshDatabases(
      MODES.map((mode) => `churnwatch_bench_ack_${mode}`),
      ([queued, commit]) =>
        compare('postgres', (mode) => (mode === 'queued' ? queued! : commit!), modelDir, port + 2, work),
    );
    const postgres = postgresRuns ? summarise(postgresRuns) : undefined;
    if (postgres) report('PostgreSQL', postgres);
    const figures = {
      machine_note:
        'load generators, servers and PostgreSQL share the same (busy) cores; figures are a floor',
      load_average: loadavg().map((l) => Number(l.toFixed(2))),
      seconds_per_run: seconds,
      rounds: ROUNDS,
      fixed_rate_rps: FIXED_RATE,
      lone_client_requests: LONE_CLIENT_REQUESTS,
      sqlite,
      postgres: postgres ?? null,
    };
    process.stdout.write(`  load average ${figures.load_average.join(', ')}\n`);
    mkdirSync(join(benchDir, 'results'), { recursive: true });
    writeFileSync(join(benchDir, 'results', 'ack-modes.json'), `${JSON.stringify(figures, null, 2)}\n`);
    rmSync(work, { recursive: true, force: true });
  } catch (error) {
    process.stdout.write(`failed; the servers' logs are kept in ${work}\n`);
    throw error;
  }
}

await main();
