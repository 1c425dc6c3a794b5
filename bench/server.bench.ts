/**
 * Serving benchmark: `churnwatch serve` from dist/ as users run it (SQLite on a writer thread, the
 * in-process monitor, pino at info, one log line per request), a bare Fastify route with the same logger
 * and log line, and the load generators (wrk, autocannon) as other processes on the same machine.
 *   - POST /predict, one record: best of two wrk runs, alternating with the bare route  goal >= 15,000 req/s
 *   - the same against the bare route                                                   goal: >= 0.5x bare
 *   - p99 of POST /predict at a fixed 5,000 req/s (autocannon and hey), and of the bare route  goal <= 10 ms
 *   - POST /predict with batches of 1,000 records, records answered 200 per second      goal >= 300,000
 *     (with the server CPU per record, and the bare route fed the same bodies as the ceiling)
 *   - GET /metrics p99 with all series, once the store has caught up: a fetch loop in this process,
 *     and hey (with the server's own time for both, from its log)                         goal <= 20 ms
 *   - server peak RSS (before and after the batch run)                                  goal <= 300 MB
 *   - the same single-record and batch loads with the store on PostgreSQL (the path of several replicas;
 *     no goal): a fresh database on CHURNWATCH_BENCH_POSTGRES_URL's server, default the local one
 * Usage: node --import tsx bench/server.bench.ts   (CHURNWATCH_BENCH_SECONDS=10 by default; needs wrk, hey)
 * The load generator shares the two cores with the server: figures are a floor, not the server's ceiling.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController } from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { customerRequests } from '../test/helpers/server-harness.js';
import { trainSmallModel } from '../test/helpers/train-small-model.js';
import { heyFixedRate, heyRequests } from './hey.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const seconds = Number(process.env.CHURNWATCH_BENCH_SECONDS ?? 10);

// ---------------------------------------------------------------- the servers under test
/**
 * The baseline: a bare Fastify POST route with the same logger and the same one line per request as
 * `churnwatch serve`, so the ratio measures what churnwatch adds, not a difference in logging.
 */
async function serveBare(port: number): Promise<void> {
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
async function startServer(argv: readonly string[], env: NodeJS.ProcessEnv, port: number, logFile: string) {
  // Logs go straight to a file: the bench process must not spend a core reading them.
  const logFd = openSync(logFile, 'w');
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', logFd],
  });
  closeSync(logFd);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      if (res.status === 200) break;
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) {
      throw new Error(
        `server ${argv.join(' ')} did not start:\n${readFileSync(logFile, 'utf8').slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    lines: () => readFileSync(logFile, 'utf8').split('\n').length - 1,
    /** The log's JSON lines as objects (other lines skipped). */
    logRecords: () =>
      readFileSync(logFile, 'utf8')
        .split('\n')
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Waits until the server's prediction queue is empty (the store has caught up), at most 120 s. */
async function waitForDrain(base: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 120_000) {
    const text = await (await fetch(`${base}/metrics`)).text();
    const queued = Number(
      /^churnwatch_store_queue_length(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? Number.NaN,
    );
    if (queued === 0) return (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the prediction queue did not drain within 120 s');
}

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

/** wrk with a POST body; returns requests/s and latency percentiles (ms). */
function wrk(url: string, body: string, connections: number, dir: string) {
  const script = join(dir, `post-${connections}.lua`);
  const bodyFile = join(dir, `body-${connections}.json`);
  writeFileSync(bodyFile, body);
  writeFileSync(
    script,
    `local f = io.open("${bodyFile}", "r")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  const result = spawnSync(
    '/usr/bin/wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr}`);
  const out = result.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  // Answered with 200: a 503 (queue full) is a refusal, not throughput.
  const okRps = requests > 0 ? (rps * (requests - non2xx)) / requests : 0;
  const pct = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  return { rps, okRps, non2xx, p50: pct('50'), p99: pct('99') };
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
  const adminUrl =
    process.env.CHURNWATCH_BENCH_POSTGRES_URL ??
    `postgres://${process.env.PGUSER ?? 'postgres'}@127.0.0.1:5432/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    process.stdout.write(
      `PostgreSQL run skipped: ${adminUrl} answers no connection (${(error as Error).message})\n`,
    );
    return undefined;
  }
  const database = `churnwatch_bench_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.query(`CREATE DATABASE ${database}`);
  try {
    const storeUrl = new URL(adminUrl);
    storeUrl.pathname = `/${database}`;
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
        storeUrl.href,
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
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
  }
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
    // Bare and full alternate, twice each, and each keeps its best run: a burst of other work on this
    // shared machine then lowers one run, not the ratio.
    const bareRuns: ReturnType<typeof wrk>[] = [];
    const predictRuns: ReturnType<typeof wrk>[] = [];
    for (let round = 0; round < 2; round++) {
      bareRuns.push(wrk(`http://127.0.0.1:${port}/predict`, single, 32, work));
      predictRuns.push(wrk(`${base}/predict`, single, 32, work));
    }
    // The same fixed rate against the bare route: the floor this load generator and machine give p99.
    // The batch body against the bare route (it parses the JSON and answers a few bytes): what reading
    // and parsing 1,000-record bodies costs on this machine alone, a ceiling for the batch figure below.
    const bareBatch = wrk(`http://127.0.0.1:${port}/predict`, batch, 4, work);
    const bareFixed = autocannonFixedRate(`http://127.0.0.1:${port}/predict`, single, 5000);
    const bareHey = heyFixedRate(`http://127.0.0.1:${port}/predict`, single, 5000, seconds, work);
    await bare.stop();
    const best = (runs: ReturnType<typeof wrk>[]) => runs.reduce((a, b) => (b.okRps > a.okRps ? b : a));
    const bareRun = best(bareRuns);
    const predictRun = best(predictRuns);
    await waitForDrain(base);
    const fixedHey = heyFixedRate(`${base}/predict`, single, 5000, seconds, work);
    const fixed = autocannonFixedRate(`${base}/predict`, single, 5000);
    const rssSingle = peakRssMb(full.child);
    // Server CPU per record as well as the rate: on a shared machine the rate moves with the other
    // load, the CPU time per record much less.
    const batchCpu0 = cpuSeconds(full.child);
    const batchRun = wrk(`${base}/predict`, batch, 4, work);
    const batchCpuSeconds = cpuSeconds(full.child) - batchCpu0;
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

    const figures = {
      machine_note: 'load generator and server share the same (busy) cores; figures are a floor',
      seconds_per_run: seconds,
      predict_single_rps: Math.round(predictRun.okRps),
      predict_single_p99_ms: predictRun.p99,
      predict_non2xx: predictRun.non2xx,
      bare_fastify_rps: Math.round(bareRun.rps),
      predict_vs_bare_ratio: predictRun.okRps / bareRun.rps,
      fixed_rate_target_rps: 5000,
      fixed_rate_achieved_rps: Math.round(fixed.rps),
      fixed_rate_p50_ms: fixed.p50,
      fixed_rate_p99_ms: fixed.p99,
      bare_fixed_rate_p50_ms: bareFixed.p50,
      bare_fixed_rate_p99_ms: bareFixed.p99,
      hey_fixed_rate_achieved_rps: Math.round(fixedHey.rps),
      hey_fixed_rate_non200: fixedHey.non200,
      hey_fixed_rate_p50_ms: fixedHey.p50,
      hey_fixed_rate_p99_ms: fixedHey.p99,
      bare_hey_fixed_rate_p50_ms: bareHey.p50,
      bare_hey_fixed_rate_p99_ms: bareHey.p99,
      batch_1000_requests_per_s: batchRun.okRps,
      batch_1000_records_per_s: Math.round(batchRun.okRps * 1000),
      batch_non2xx: batchRun.non2xx,
      batch_server_cpu_us_per_record: (batchCpuSeconds / (batchRun.okRps * seconds * 1000)) * 1e6,
      bare_fastify_batch_records_per_s: Math.round(bareBatch.rps * 1000),
      batch_store_drain_seconds: drainSeconds,
      predict_single_runs_rps: predictRuns.map((r) => Math.round(r.okRps)),
      bare_fastify_runs_rps: bareRuns.map((r) => Math.round(r.rps)),
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
    const goals: [string, string, boolean][] = [
      [
        'predict single req/s',
        `${figures.predict_single_rps} (goal >= 15000)`,
        figures.predict_single_rps >= 15000,
      ],
      [
        'predict / bare Fastify',
        `${figures.predict_vs_bare_ratio.toFixed(2)} (bare ${figures.bare_fastify_rps}; goal >= 0.5)`,
        figures.predict_vs_bare_ratio >= 0.5,
      ],
      [
        'p99 at 5000 req/s',
        `${figures.fixed_rate_p99_ms} ms (autocannon, achieved ${figures.fixed_rate_achieved_rps}/s; bare Fastify ${figures.bare_fixed_rate_p99_ms} ms; goal <= 10)`,
        figures.fixed_rate_p99_ms <= 10,
      ],
      [
        'p99 at 5000 req/s, hey',
        `${figures.hey_fixed_rate_p99_ms.toFixed(1)} ms (achieved ${figures.hey_fixed_rate_achieved_rps}/s, ${figures.hey_fixed_rate_non200} not 200; bare Fastify ${figures.bare_hey_fixed_rate_p99_ms.toFixed(1)} ms; goal <= 10)`,
        figures.hey_fixed_rate_p99_ms <= 10 && figures.hey_fixed_rate_non200 === 0,
      ],
      [
        'batch 1000 records/s',
        `${figures.batch_1000_records_per_s} (server CPU ${figures.batch_server_cpu_us_per_record.toFixed(1)} µs/record; bare Fastify parsing the same bodies ${figures.bare_fastify_batch_records_per_s}; goal >= 300000)`,
        figures.batch_1000_records_per_s >= 300_000,
      ],
      [
        'GET /metrics p99',
        `${figures.metrics_p99_ms.toFixed(2)} ms, ${figures.metrics_series} series (goal <= 20)`,
        figures.metrics_p99_ms <= 20,
      ],
      [
        'GET /metrics p99, hey',
        `${figures.metrics_hey_p99_ms.toFixed(2)} ms (p50 ${figures.metrics_hey_p50_ms.toFixed(2)}; the server's own p99 over both runs ${figures.metrics_server_p99_ms.toFixed(2)} ms; goal <= 20)`,
        figures.metrics_hey_p99_ms <= 20,
      ],
      [
        'server peak RSS',
        `${figures.server_peak_rss_mb} MB (goal <= 300)`,
        figures.server_peak_rss_mb <= 300,
      ],
    ];
    process.stdout.write('\nserver benchmark\n');
    for (const [name, value, ok] of goals)
      process.stdout.write(`  ${ok ? 'ok  ' : 'MISS'}  ${name.padEnd(24)} ${value}\n`);
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

if (process.argv[2] === '--bare') {
  await serveBare(Number(process.argv[3]));
} else {
  await main();
}
