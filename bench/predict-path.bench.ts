/**
 * CPU time per POST /predict request, old code against new, in one process. On the shared 2-core
 * machine wall-clock rates swing 2x with other work; the CPU one request costs the process moves far
 * less. Three servers live in this process:
 *   - `churnwatch serve` (runServe: SQLite on the writer thread, the in-process monitor, pino at info)
 *     from this tree's src/;
 *   - the same from another git revision's src/ (`--base <ref>`, default main), extracted to a
 *     temporary directory;
 *   - a bare Fastify app at its defaults (no logger) whose POST route parses the body and answers a
 *     small JSON.
 * wrk (another process) loads one at a time, the order rotating every round; the process's CPU time
 * (user + system, every thread, so the writer thread's share is in it) over that load, up to the
 * store having written everything, is divided by the requests wrk completed.
 *
 * Usage: node --import tsx bench/predict-path.bench.ts [--base <ref>] [--rounds 16] [--seconds 2]
 *          [--batch] [--inject] [--only new|old|bare] [--threads] [--models <models dir holding latest>]
 * --inject loads the servers with Fastify's inject in this process instead of wrk over loopback.
 * With --only, one server runs (for `node --cpu-prof`); see docs/performance.md for the stage table.
 */
import { execFile, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { customerRequests } from '../test/helpers/server-harness.js';
import { trainSmallModel } from '../test/helpers/train-small-model.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    base: { type: 'string', default: 'main' },
    rounds: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '2' },
    batch: { type: 'boolean', default: false },
    inject: { type: 'boolean', default: false },
    only: { type: 'string' },
    threads: { type: 'boolean', default: false },
    models: { type: 'string' },
  },
});

interface Target {
  readonly name: string;
  readonly url: string;
  /** Fastify's inject: a request without a socket (--inject). */
  inject(body: string): Promise<number>;
  /** Resolves once everything the server accepted is written (nothing for the bare route). */
  settle(): Promise<void>;
  /** Writes to the store so far (store flushes), undefined for the bare route. */
  writes(): Promise<number | undefined>;
  close(): Promise<void>;
}

interface Injectable {
  inject(options: {
    method: 'POST';
    url: string;
    payload: string;
    headers: Record<string, string>;
  }): Promise<{ statusCode: number }>;
}

const injector =
  (app: Injectable) =>
  async (payload: string): Promise<number> =>
    (
      await app.inject({
        method: 'POST',
        url: '/predict',
        payload,
        headers: { 'content-type': 'application/json' },
      })
    ).statusCode;

interface MetricValues {
  values: { metricName?: string; value: number }[];
}

interface RunningServe {
  url: string;
  app: Injectable & {
    churnwatch: {
      context: { writer: { flush(): Promise<void> } };
      metrics: { registry: { getSingleMetric(name: string): { get(): Promise<MetricValues> } | undefined } };
    };
  };
  close(): Promise<void>;
}

/** `churnwatch serve` from a src/ tree, on an ephemeral port with a fresh SQLite file. */
async function serveFrom(name: string, srcDir: string, modelPath: string, work: string): Promise<Target> {
  const { runServe } = (await import(join(srcDir, 'cli', 'commands', 'serve.ts'))) as {
    runServe(options: Record<string, unknown>): Promise<RunningServe>;
  };
  const server = await runServe({
    port: '0',
    host: '127.0.0.1',
    modelPath,
    storeUrl: `sqlite:${join(work, `${name}.db`)}`,
    env: { CHURNWATCH_LOG_LEVEL: 'info' },
  });
  return {
    name,
    url: `${server.url}/predict`,
    inject: injector(server.app),
    settle: () => server.app.churnwatch.context.writer.flush(),
    async writes() {
      const metric = server.app.churnwatch.metrics.registry.getSingleMetric(
        'churnwatch_store_flush_duration_seconds',
      );
      const values = (await metric?.get())?.values ?? [];
      return values.find((v) => v.metricName?.endsWith('_count'))?.value;
    },
    close: () => server.close(),
  };
}

/** The bare route at Fastify's defaults: no logger, the body parsed, a small JSON answered. */
async function serveBare(): Promise<Target> {
  const app = Fastify();
  app.post('/predict', async (request) => ({ ok: true, echo: typeof request.body }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    name: 'bare',
    url: `${url}/predict`,
    inject: injector(app),
    settle: async () => undefined,
    writes: async () => undefined,
    close: () => app.close(),
  };
}

/** Another revision's src/, where its imports still find this tree's node_modules. */
function extractRevision(ref: string, work: string): string {
  const dir = join(work, 'base');
  mkdirSync(dir);
  const archive = spawnSync(
    'sh',
    ['-c', `git archive ${ref} src package.json tsconfig.json | tar -x -C ${dir}`],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (archive.status !== 0) throw new Error(`git archive ${ref} failed: ${archive.stderr}`);
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, 'src');
}

function wrk(url: string, bodyFile: string, connections: number, seconds: number, work: string) {
  const script = join(work, 'post.lua');
  writeFileSync(
    script,
    `local f = io.open("${bodyFile}", "r")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  // Asynchronous: this process's servers must answer while wrk runs.
  return new Promise<{ requests: number; non2xx: number }>((resolve, reject) => {
    execFile(
      '/usr/bin/wrk',
      ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, url],
      (error, stdout) => {
        if (error) return reject(error);
        resolve({
          requests: Number(/(\d+) requests in/.exec(stdout)?.[1]),
          non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0),
        });
      },
    );
  });
}

/** One thread of this process (/proc/self/task/<tid>/stat): its name and CPU µs (10 ms ticks: runs of seconds). */
function taskCpu(tid: number | string): { name: string; micros: number } {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    micros: (Number(fields[11]) + Number(fields[12])) * 10_000,
  };
}

/** CPU µs of this process's main thread (tid = pid). */
const mainThreadMicros = (): number => taskCpu(process.pid).micros;

/** CPU µs of every thread of this process by thread id, with its name. */
function threadMicros(): Map<number, { name: string; micros: number }> {
  const out = new Map<number, { name: string; micros: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      out.set(Number(tid), taskCpu(tid));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/**
 * --threads: each thread's CPU per request and its busy share of the round's wall time, the threads
 * that used under 2 % of the wall left out. A thread near 100 % busy paces the server.
 */
function reportThreads(
  target: string,
  before: Map<number, { name: string; micros: number }>,
  after: Map<number, { name: string; micros: number }>,
  wallMs: number,
  requests: number,
): void {
  const parts: string[] = [];
  for (const [tid, { name, micros }] of after) {
    const used = micros - (before.get(tid)?.micros ?? 0);
    if (used < wallMs * 1000 * 0.02) continue;
    const busy = (used / (wallMs * 1000)) * 100;
    parts.push(`${name}/${tid} ${(used / requests).toFixed(1)} µs (${busy.toFixed(0)} %)`);
  }
  process.stdout.write(`  ${target} threads: ${parts.join(', ')}\n`);
}

/**
 * `connections` closed loops of app.inject for `seconds` (--inject): the same requests without the
 * sockets, whose kernel time and batching under load move the per-request CPU of wrk runs most.
 */
async function injectLoad(t: Target, body: string, connections: number, seconds: number) {
  const until = performance.now() + seconds * 1000;
  let requests = 0;
  let non2xx = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const status = await t.inject(body);
        requests++;
        if (status >= 300) non2xx++;
      }
    }),
  );
  return { requests, non2xx };
}

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'churnwatch-predict-path-'));
  const targets: Target[] = [];
  try {
    const modelPath = join(args.models ?? (await trainSmallModel(50_000, 11)), 'latest');
    const only = args.only;
    if (!only || only === 'new') targets.push(await serveFrom('new', join(root, 'src'), modelPath, work));
    if (!only || only === 'old')
      targets.push(await serveFrom('old', extractRevision(args.base!, work), modelPath, work));
    if (!only || only === 'bare') targets.push(await serveBare());

    const body = args.batch
      ? JSON.stringify({ records: customerRequests(1000, 6) })
      : JSON.stringify(customerRequests(1, 5)[0]);
    const bodyFile = join(work, 'body.json');
    writeFileSync(bodyFile, body);
    const connections = args.batch ? 4 : 16;
    const records = args.batch ? 1000 : 1;
    const seconds = Number(args.seconds);
    const load = (t: Target, s: number) =>
      args.inject ? injectLoad(t, body, connections, s) : wrk(t.url, bodyFile, connections, s, work);
    const rounds = Number(args.rounds);
    const perRequest = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    // The main thread's part of it (the rest is the writer thread, other workers and the GC's helpers).
    const mainPerRequest = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    // Records answered per second of the round's wall time, the store's catching up included.
    const recordRate = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    // Every request each server answered, warm-up included: a CPU profile's stage times divide by it.
    const served = new Map<string, number>(targets.map((t) => [t.name, 0]));
    // Warm-up: every server's hot path compiled before anything counts.
    for (const t of targets) {
      served.set(t.name, (await load(t, 1)).requests);
      await t.settle();
    }
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(round + k) % targets.length]!;
        const cpu0 = cpuMicros();
        const main0 = mainThreadMicros();
        const threads0 = args.threads ? threadMicros() : undefined;
        const wall0 = performance.now();
        const run = await load(t, seconds);
        await t.settle();
        recordRate.get(t.name)!.push((run.requests * records) / ((performance.now() - wall0) / 1000));
        if (threads0)
          reportThreads(t.name, threads0, threadMicros(), performance.now() - wall0, run.requests);
        const cpu = cpuMicros() - cpu0;
        mainPerRequest.get(t.name)!.push((mainThreadMicros() - main0) / run.requests);
        served.set(t.name, served.get(t.name)! + run.requests);
        if (run.non2xx > 0) throw new Error(`${t.name}: ${run.non2xx} answers not 2xx`);
        perRequest.get(t.name)!.push(cpu / run.requests);
      }
      const line = targets.map((t) => `${t.name} ${perRequest.get(t.name)!.at(-1)!.toFixed(1)}`).join('  ');
      process.stdout.write(`round ${round + 1}: CPU µs/request  ${line}\n`);
    }
    const med = (name: string) => median(perRequest.get(name) ?? [Number.NaN]);
    const medMain = (name: string) => median(mainPerRequest.get(name) ?? [Number.NaN]);
    process.stdout.write(
      `\n${args.batch ? 'batches of 1,000' : 'single record'}, median CPU µs per request over ${rounds} rounds:\n`,
    );
    for (const t of targets) {
      const writes = await t.writes();
      const perWrite = writes
        ? `, ${((served.get(t.name)! * records) / writes).toFixed(0)} records per store write`
        : '';
      process.stdout.write(
        `  ${t.name.padEnd(5)} ${med(t.name).toFixed(1)}, main thread ${medMain(t.name).toFixed(1)}, ${median(recordRate.get(t.name)!).toFixed(0)} records/s  (${served.get(t.name)} requests served in all${perWrite})\n`,
      );
    }
    if (perRequest.has('old') && perRequest.has('new')) {
      const ratios = perRequest.get('new')!.map((n, i) => n / perRequest.get('old')![i]!);
      process.stdout.write(
        `  new / old per round: median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})\n`,
      );
      const mains = mainPerRequest.get('new')!.map((n, i) => n / mainPerRequest.get('old')![i]!);
      process.stdout.write(`  new / old, main thread: median ${median(mains).toFixed(3)}\n`);
      const rates = recordRate.get('new')!.map((n, i) => n / recordRate.get('old')![i]!);
      process.stdout.write(
        `  new / old, records per second: median ${median(rates).toFixed(3)} (${Math.min(...rates).toFixed(2)}–${Math.max(...rates).toFixed(2)})\n`,
      );
    }
    if (perRequest.has('bare'))
      for (const name of ['new', 'old'].filter((n) => perRequest.has(n)))
        process.stdout.write(
          `  bare / ${name}: whole process ${(med('bare') / med(name)).toFixed(3)}, main thread ${(medMain('bare') / medMain(name)).toFixed(3)}\n`,
        );
  } finally {
    for (const t of targets) await t.close().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
