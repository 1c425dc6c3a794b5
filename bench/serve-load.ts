/**
 * What the serving benchmarks share: `churnwatch serve` (or another server) as a child process with its
 * log in a file, wrk as the load generator, and rounds in which the servers compared take turns.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Seconds per load run (CHURNWATCH_BENCH_SECONDS, default 10). */
export const seconds = Number(process.env.CHURNWATCH_BENCH_SECONDS ?? 10);

/** The runs of a round in turn, starting one further each round. */
export function rotate<T>(runs: readonly T[], round: number): T[] {
  return runs.map((_, i) => runs[(i + round) % runs.length]!);
}

export const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
};

export async function startServer(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  port: number,
  logFile: string,
) {
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

/**
 * GETs `url`'s body on a connection of its own. fetch's pooled keep-alive connection, idle through a
 * load run of the other server, was twice found closed under the next request ("other side closed").
 */
function getText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Waits until the server's prediction queue is empty (the store has caught up), at most 120 s. */
export async function waitForDrain(base: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 120_000) {
    const text = await getText(`${base}/metrics`);
    const queued = Number(
      /^churnwatch_store_queue_length(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? Number.NaN,
    );
    if (queued === 0) return (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the prediction queue did not drain within 120 s');
}

/** wrk with a POST body; returns requests/s and latency percentiles (ms). */
export function wrk(url: string, body: string, connections: number, dir: string) {
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

/**
 * Runs `fn` with a fresh PostgreSQL database per name (their URLs, in order) on the server of
 * CHURNWATCH_BENCH_POSTGRES_URL (default the local one), dropped after. Undefined, with the reason
 * printed, when no PostgreSQL answers.
 */
export async function withFreshDatabases<T>(
  names: readonly string[],
  fn: (urls: string[]) => Promise<T>,
): Promise<T | undefined> {
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
  const databases = names.map((name) => `${name}_${process.pid}`);
  try {
    for (const database of databases) {
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      await admin.query(`CREATE DATABASE ${database}`);
    }
    return await fn(
      databases.map((database) => {
        const url = new URL(adminUrl);
        url.pathname = `/${database}`;
        return url.href;
      }),
    );
  } finally {
    for (const database of databases) await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
  }
}
