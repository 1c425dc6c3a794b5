/**
 * Serving benchmark: `churnwatch serve` from dist/ as users run it (SQLite on a writer thread, the
 * in-process monitor, pino at info), a bare Fastify POST route at Fastify's defaults (no logger) that
 * parses the same body and answers a small JSON, the same bare route with churnwatch's logger and one
 * log line per request (the comparison used before issue 20, kept beside it), and the load generators
 * (wrk, autocannon, hey) as other processes on the same machine. Three rounds, alternating the servers
 * within each round; every ratio is of two runs in the same round:
 *   - POST /predict, one record                                                        goal >= 15,000 req/s
 *   - the same against the bare route                                    goal: median ratio >= 0.5x bare
 *   - p99 of POST /predict at a fixed 5,000 req/s (hey; autocannon once), and of the bare route
 *                                                                       goal <= 10 ms and <= 2x bare's p99
 *   - POST /predict with batches of 1,000 records, records answered 200 per second      goal >= 300,000
 *     (with the server CPU per record), against the bare route fed the same bodies
 *                                                       goal: median ratio >= 0.35x the bare route's parsing
 *   - GET /metrics p99 with all series, once the store has caught up: a fetch loop in this process,
 *     and hey (with the server's own time for both, from its log)                         goal <= 20 ms
 *   - server peak RSS (before and after the batch run)                                  goal <= 300 MB
 *   - the same single-record and batch loads with the store on PostgreSQL (the path of several replicas;
 *     no goal): a fresh database on CHURNWATCH_BENCH_POSTGRES_URL's server, default the local one
 * Usage: node --import tsx bench/server.bench.ts   (CHURNWATCH_BENCH_SECONDS=10 by default; needs wrk, hey)
 * The load generator shares the two cores with the server: figures are a floor, not the server's ceiling.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController } from 'fastify';
import { pino } from 'pino';
import { customerRequests } from '../test/helpers/server-harness.js';
import { trainSmallModel } from '../test/helpers/train-small-model.js';
import { type FixedRateResult, heyFixedRate, heyRequests } from './hey.js';
import { median, rotate, seconds, startServer, waitForDrain, withFreshDatabases, wrk } from './serve-load.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
/** Rounds of each comparison, the servers alternating within a round. */
const ROUNDS = 3;

// ---------------------------------------------------------------- the servers under test
/**
 * The baseline: a bare Fastify POST route at Fastify's defaults (no logger), as a user would compare.
 * With `logged`, the same route with a pino logger and one line per request at info (the comparison
 * used before issue 20; churnwatch's own line is at debug, so at its default level it writes none).
 */
async function serveBare(port: number, logged: boolean): Promise<void> {
  if (!logged) {
    const app = Fastify();
    app.post('/predict', async (request) => ({ ok: true, echo: typeof request.body }));
    await app.listen({ port, host: '127.0.0.1' });
    return;
  }
  const logger = pino(
    { name: 'bench', level: 'info' },
    pino.destination({ fd: 2, sync: false, minLength: 4096 }),
  );
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.addHook('onResponse', async (request, reply) => {
    app.log.info(
      {
        reqId: request.id,
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        ms: reply.elapsedTime,
      },
      'request completed',
    );
  });
  app.post('/predict', async (request) => ({ ok: true, echo: typeof request.body }));
  await app.listen({ port, host: '127.0.0.1' });
}

// ---------------------------------------------------------------- parent: load and measure
/** CPU seconds (user + system, all threads) a process has used so far. */
/** User plus system CPU seconds from a /proc/<pid>/stat line. */
function statCpuSeconds(stat: string): number {
  const fields = stat.split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function cpuSeconds(child: ChildProcess): number {
  return statCpuSeconds(readFileSync(`/proc/${child.pid}/stat`, 'utf8'));
}

function peakRssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** CPU seconds of every PostgreSQL server process on this machine: its backends do the inserts. */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.includes(' (postgres) ')) total += statCpuSeconds(stat);
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

/** autocannon at a fixed overall rate (another process); returns latency percentiles in ms. */
function autocannonFixedRate(url: string, body: string, rate: number) {
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'autocannon', 'autocannon.js'),
      '--json',
      '-c',
      '50',
      '-d',
      String(seconds),
      '-R',
      String(rate),
      '-m',
      'POST',
      '-H',
      'content-type=application/json',
      '-b',
      body,
      url,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.status !== 0) throw new Error(`autocannon failed: ${result.stderr}`);
  const json = JSON.parse(result.stdout) as {
    latency: { p50: number; p99: number };
    requests: { average: number };
    non2xx: number;
  };
  return { p50: json.latency.p50, p99: json.latency.p99, rps: json.requests.average, non2xx: json.non2xx };
}

/** The p-quantile of `values` (nearest rank), NaN when empty. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function metricsLatency(
  url: string,
  n: number,
): Promise<{ p50: number; p99: number; bytes: number; series: number }> {
  const times: number[] = [];
  let text = '';
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    text = await (await fetch(url)).text();
    times.push(performance.now() - t0);
  }
  const q = (p: number) => percentile(times, p);
  const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  return { p50: q(0.5), p99: q(0.99), bytes: text.length, series };
}

/**
 * `churnwatch serve` on a fresh PostgreSQL database: single records and 1,000-record batches as above,
 * with the server's and PostgreSQL's CPU per batch record (both on this machine's two cores). Undefined,
 * with the reason printed, when no PostgreSQL answers.
 */
async function postgresRun(modelDir: string, single: string, batch: string, port: number, work: string) {
  return withFreshDatabases(['churnwatch_bench'], async ([storeUrl]) => {
    const server = await startServer(
      [
        join(root, 'dist', 'cli', 'main.js'),
        'serve',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--model',
        modelDir,
        '--store',
        storeUrl!,
      ],
      { CHURNWATCH_LOG_LEVEL: 'info' },
      port,
      join(work, 'postgres.log'),
    );
    const base = `http://127.0.0.1:${port}`;
    try {
      const singleRun = wrk(`${base}/predict`, single, 32, work);
      await waitForDrain(base);
      const cpu0 = cpuSeconds(server.child);
      const pgCpu0 = postgresCpuSeconds();
      const batchRun = wrk(`${base}/predict`, batch, 4, work);
      const records = batchRun.okRps * seconds * 1000;
      return {
        single_rps: Math.round(singleRun.okRps),
        batch_1000_records_per_s: Math.round(batchRun.okRps * 1000),
        batch_non2xx: batchRun.non2xx,
        batch_server_cpu_us_per_record: ((cpuSeconds(server.child) - cpu0) / records) * 1e6,
        batch_postgres_cpu_us_per_record: ((postgresCpuSeconds() - pgCpu0) / records) * 1e6,
      };
    } finally {
      await server.stop();
    }
  });
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'churnwatch-bench-'));
  try {
    // A model of the size `churnwatch train` makes by default (early stopping over up to 300 trees), not the tests' toy one.
    const modelDir = join(await trainSmallModel(50_000, 11), 'latest');
    const single = JSON.stringify(customerRequests(1, 5)[0]);
    const batch = JSON.stringify({ records: customerRequests(1000, 6) });
    const port = 18000 + Math.floor(Math.random() * 1000);

    const bare = await startServer(
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--bare', String(port)],
      {},
      port,
      join(work, 'bare.log'),
    );
    const bareLogged = await startServer(
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--bare-logged', String(port + 3)],
      {},
      port + 3,
      join(work, 'bare-logged.log'),
    );
    const bareUrl = `http://127.0.0.1:${port}/predict`;
    const bareLoggedUrl = `http://127.0.0.1:${port + 3}/predict`;

    // The real thing: `churnwatch serve` from dist/ with its defaults (SQLite on a writer thread, the
    // in-process monitor, logging at info), as a user or the Docker image runs it.
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stderr}`);
    const full = await startServer(
      [
        join(root, 'dist', 'cli', 'main.js'),
        'serve',
        '--port',
        String(port + 1),
        '--host',
        '127.0.0.1',
        '--model',
        modelDir,
        '--store',
        `sqlite:${join(work, 'full.db')}`,
      ],
      { CHURNWATCH_LOG_LEVEL: 'info' },
      port + 1,
      join(work, 'full.log'),
    );
    const base = `http://127.0.0.1:${port + 1}`;
    // Three rounds; in each the servers take turns (the order rotating), and a ratio is of two runs
    // of the same round: a burst of other work on this shared machine then lowers a round, not a ratio.
    const rounds: {
      bare: ReturnType<typeof wrk>;
      bareLogged: ReturnType<typeof wrk>;
      predict: ReturnType<typeof wrk>;
    }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const runs = rotate(
        [
          ['bare', () => wrk(bareUrl, single, 32, work)],
          ['bareLogged', () => wrk(bareLoggedUrl, single, 32, work)],
          ['predict', () => wrk(`${base}/predict`, single, 32, work)],
        ] as const,
        round,
      );
      rounds.push(Object.fromEntries(runs.map(([name, run]) => [name, run()])) as (typeof rounds)[number]);
    }
    await bareLogged.stop();
    await waitForDrain(base);
    // p99 at a fixed rate, bare and churnwatch alternating: the floor this load generator and machine
    // give p99, and what churnwatch adds to it.
    const heyRounds: { bare: FixedRateResult; predict: FixedRateResult }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const runs = rotate(
        [
          ['bare', () => heyFixedRate(bareUrl, single, 5000, seconds, work)],
          ['predict', () => heyFixedRate(`${base}/predict`, single, 5000, seconds, work)],
        ] as const,
        round,
      );
      heyRounds.push(
        Object.fromEntries(runs.map(([name, run]) => [name, run()])) as (typeof heyRounds)[number],
      );
      await waitForDrain(base);
    }
    const bareFixed = autocannonFixedRate(bareUrl, single, 5000);
    const fixed = autocannonFixedRate(`${base}/predict`, single, 5000);
    const rssSingle = peakRssMb(full.child);
    // Batches: the bare route reads and parses the same 1,000-record bodies and answers a few bytes,
    // what reading and parsing them costs on this machine alone. Server CPU per record as well as the
    // rate: on a shared machine the rate moves with the other load, the CPU time per record much less.
    const batchRounds: {
      bare: ReturnType<typeof wrk>;
      predict: ReturnType<typeof wrk>;
      cpuSeconds: number;
    }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const bareFirst = round % 2 === 0;
      const bareRun = bareFirst ? wrk(bareUrl, batch, 4, work) : undefined;
      await waitForDrain(base);
      const cpu0 = cpuSeconds(full.child);
      const predictRun = wrk(`${base}/predict`, batch, 4, work);
      const cpu = cpuSeconds(full.child) - cpu0;
      batchRounds.push({
        bare: bareRun ?? wrk(bareUrl, batch, 4, work),
        predict: predictRun,
        cpuSeconds: cpu,
      });
    }
    await bare.stop();
    // /metrics with every series present, once the store has caught up with the batch run.
    const drainSeconds = await waitForDrain(base);
    const metrics = await metricsLatency(`${base}/metrics`, 200);
    // The same from hey, a Go client in its own process: the fetch loop above runs in this Node process,
    // whose own event loop and GC are part of what it measures.
    const metricsHey = heyRequests(`${base}/metrics`, 300);
    const rss = peakRssMb(full.child);
    await full.stop();
    const logLines = full.lines();
    // The server's own time for those 500 scrapes (Fastify's elapsed time, from its log lines).
    const metricsServerMs = full
      .logRecords()
      .filter((r) => r.url === '/metrics' && typeof r.ms === 'number')
      .slice(-500)
      .map((r) => r.ms as number);

    const postgres = await postgresRun(modelDir, single, batch, port + 2, work);

    const singleRatios = rounds.map((r) => r.predict.okRps / r.bare.rps);
    const loggedRatios = rounds.map((r) => r.predict.okRps / r.bareLogged.rps);
    const p99Ratios = heyRounds.map((r) => r.predict.p99 / r.bare.p99);
    const batchRatios = batchRounds.map((r) => r.predict.okRps / r.bare.rps);
    const batchCpuPerRecord = batchRounds.map(
      (r) => (r.cpuSeconds / (r.predict.okRps * seconds * 1000)) * 1e6,
    );
    const figures = {
      machine_note: 'load generator and server share the same (busy) cores; figures are a floor',
      load_average: loadavg().map((l) => Number(l.toFixed(2))),
      seconds_per_run: seconds,
      rounds: ROUNDS,
      predict_single_runs_rps: rounds.map((r) => Math.round(r.predict.okRps)),
      predict_single_p99_ms: rounds.map((r) => r.predict.p99),
      predict_non2xx: rounds.reduce((n, r) => n + r.predict.non2xx, 0),
      bare_fastify_runs_rps: rounds.map((r) => Math.round(r.bare.rps)),
      bare_fastify_logged_runs_rps: rounds.map((r) => Math.round(r.bareLogged.rps)),
      predict_vs_bare_ratios: singleRatios,
      predict_vs_bare_ratio: median(singleRatios),
      predict_vs_bare_logged_ratios: loggedRatios,
      predict_vs_bare_logged_ratio: median(loggedRatios),
      fixed_rate_target_rps: 5000,
      hey_fixed_rate_achieved_rps: heyRounds.map((r) => Math.round(r.predict.rps)),
      hey_fixed_rate_non200: heyRounds.reduce((n, r) => n + r.predict.non200, 0),
      hey_fixed_rate_p50_ms: heyRounds.map((r) => r.predict.p50),
      hey_fixed_rate_p99_ms: heyRounds.map((r) => r.predict.p99),
      bare_hey_fixed_rate_p50_ms: heyRounds.map((r) => r.bare.p50),
      bare_hey_fixed_rate_p99_ms: heyRounds.map((r) => r.bare.p99),
      hey_p99_vs_bare_ratios: p99Ratios,
      hey_p99_vs_bare_ratio: median(p99Ratios),
      hey_p99_median_ms: median(heyRounds.map((r) => r.predict.p99)),
      fixed_rate_achieved_rps: Math.round(fixed.rps),
      fixed_rate_p50_ms: fixed.p50,
      fixed_rate_p99_ms: fixed.p99,
      bare_fixed_rate_p50_ms: bareFixed.p50,
      bare_fixed_rate_p99_ms: bareFixed.p99,
      batch_1000_records_per_s_runs: batchRounds.map((r) => Math.round(r.predict.okRps * 1000)),
      batch_1000_records_per_s: Math.round(median(batchRounds.map((r) => r.predict.okRps)) * 1000),
      batch_non2xx: batchRounds.reduce((n, r) => n + r.predict.non2xx, 0),
      batch_server_cpu_us_per_record_runs: batchCpuPerRecord,
      batch_server_cpu_us_per_record: median(batchCpuPerRecord),
      bare_fastify_batch_records_per_s_runs: batchRounds.map((r) => Math.round(r.bare.rps * 1000)),
      batch_vs_bare_parsing_ratios: batchRatios,
      batch_vs_bare_parsing_ratio: median(batchRatios),
      batch_store_drain_seconds: drainSeconds,
      metrics_p50_ms: metrics.p50,
      metrics_p99_ms: metrics.p99,
      metrics_hey_p50_ms: metricsHey.p50,
      metrics_hey_p99_ms: metricsHey.p99,
      metrics_server_p99_ms: percentile(metricsServerMs, 0.99),
      metrics_series: metrics.series,
      metrics_bytes: metrics.bytes,
      server_peak_rss_mb: Math.round(rss),
      server_peak_rss_before_batches_mb: Math.round(rssSingle),
      server_log_lines: logLines,
      postgres: postgres ?? null,
    };
    const list = (xs: readonly number[], digits = 2) => xs.map((x) => x.toFixed(digits)).join(', ');
    const goals: [string, string, boolean][] = [
      [
        'predict single req/s',
        `${figures.predict_single_runs_rps.join(', ')} (goal >= 15000)`,
        Math.max(...figures.predict_single_runs_rps) >= 15000,
      ],
      [
        'predict / bare Fastify',
        `${figures.predict_vs_bare_ratio.toFixed(2)} (rounds ${list(singleRatios)}; bare at its defaults ${figures.bare_fastify_runs_rps.join(', ')}; goal >= 0.5)`,
        figures.predict_vs_bare_ratio >= 0.5,
      ],
      [
        'p99 at 5000 req/s, hey',
        `${list(figures.hey_fixed_rate_p99_ms, 1)} ms (achieved ${figures.hey_fixed_rate_achieved_rps.join(', ')}/s, ${figures.hey_fixed_rate_non200} not 200; goal <= 10)`,
        figures.hey_p99_median_ms <= 10 && figures.hey_fixed_rate_non200 === 0,
      ],
      [
        'p99 / bare p99, hey',
        `${figures.hey_p99_vs_bare_ratio.toFixed(2)} (rounds ${list(p99Ratios)}; bare ${list(figures.bare_hey_fixed_rate_p99_ms, 1)} ms; goal <= 2)`,
        figures.hey_p99_vs_bare_ratio <= 2,
      ],
      [
        'batch 1000 records/s',
        `${figures.batch_1000_records_per_s_runs.join(', ')} (server CPU ${list(batchCpuPerRecord, 1)} µs/record; goal >= 300000)`,
        figures.batch_1000_records_per_s >= 300_000,
      ],
      [
        'batch / bare parsing',
        `${figures.batch_vs_bare_parsing_ratio.toFixed(2)} (rounds ${list(batchRatios, 3)}; bare parsing ${figures.bare_fastify_batch_records_per_s_runs.join(', ')} records/s; goal >= 0.35)`,
        figures.batch_vs_bare_parsing_ratio >= 0.35,
      ],
      [
        'GET /metrics p99',
        `${figures.metrics_p99_ms.toFixed(2)} ms, ${figures.metrics_series} series (goal <= 20)`,
        figures.metrics_p99_ms <= 20,
      ],
      [
        'GET /metrics p99, hey',
        `${figures.metrics_hey_p99_ms.toFixed(2)} ms (p50 ${figures.metrics_hey_p50_ms.toFixed(2)}; ${Number.isNaN(figures.metrics_server_p99_ms) ? 'the server logs no line per request at info, so its own p99 is not measured' : `the server's own p99 over both runs ${figures.metrics_server_p99_ms.toFixed(2)} ms`}; goal <= 20)`,
        figures.metrics_hey_p99_ms <= 20,
      ],
      [
        'server peak RSS',
        `${figures.server_peak_rss_mb} MB (goal <= 300)`,
        figures.server_peak_rss_mb <= 300,
      ],
    ];
    // Beside the goals, no goal of its own: the comparison used before issue 20.
    const info: [string, string][] = [
      [
        'predict / bare, logged',
        `${figures.predict_vs_bare_logged_ratio.toFixed(2)} (rounds ${list(loggedRatios)}; bare route with a log line per request ${figures.bare_fastify_logged_runs_rps.join(', ')})`,
      ],
      [
        'p99, autocannon',
        `${figures.fixed_rate_p99_ms} ms (achieved ${figures.fixed_rate_achieved_rps}/s; bare ${figures.bare_fixed_rate_p99_ms} ms)`,
      ],
      ['load average', figures.load_average.join(', ')],
    ];
    process.stdout.write('\nserver benchmark\n');
    for (const [name, value, ok] of goals)
      process.stdout.write(`  ${ok ? 'ok  ' : 'MISS'}  ${name.padEnd(24)} ${value}\n`);
    for (const [name, value] of info) process.stdout.write(`  info  ${name.padEnd(24)} ${value}\n`);
    mkdirSync(join(benchDir, 'results'), { recursive: true });
    writeFileSync(
      join(benchDir, 'results', 'server.json'),
      `${JSON.stringify({ ...figures, goals: goals.map(([n, v, ok]) => ({ name: n, value: v, ok })) }, null, 2)}\n`,
    );
    if (postgres) {
      process.stdout.write('with the store on PostgreSQL (several replicas share one; no goal)\n');
      process.stdout.write(`  info  ${'predict single req/s'.padEnd(24)} ${postgres.single_rps}\n`);
      process.stdout.write(
        `  info  ${'batch 1000 records/s'.padEnd(24)} ${postgres.batch_1000_records_per_s} (server CPU ${postgres.batch_server_cpu_us_per_record.toFixed(1)} µs/record, PostgreSQL CPU ${postgres.batch_postgres_cpu_us_per_record.toFixed(1)} µs/record, ${postgres.batch_non2xx} not 200)\n`,
      );
    }
    process.stdout.write(`figures in bench/results/server.json\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--bare' || process.argv[2] === '--bare-logged') {
  await serveBare(Number(process.argv[3]), process.argv[2] === '--bare-logged');
} else {
  await main();
}
