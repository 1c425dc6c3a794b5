/**
 * Issue 19: 200,000 feedback items naming predictions that never come, sent to `churnwatch serve` (a
 * child process on a SQLite file, writer thread, defaults otherwise), then the idle server's CPU over
 * consecutive 30 s windows, from /proc: the whole process, its main thread and its busiest other
 * thread (the SQLite writer), and the p99 of POST /predict (hey, one record, fixed rate) before and
 * after the flood. The load average is printed with them: the machine is shared.
 * Usage: node --import tsx bench/pending-flood.bench.ts
 *   PENDING_BENCH_ROOT=/path/to/checkout runs that checkout's serve (e.g. main, for the figures before);
 *   PENDING_BENCH_ITEMS (200,000), PENDING_BENCH_WINDOWS (3 × 30 s), PENDING_BENCH_RATE (1,000 req/s).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { customerRequests } from '../test/helpers/server-harness.js';
import { trainSmallModel } from '../test/helpers/train-small-model.js';
import { heyFixedRate } from './hey.js';
import { startServeChild } from './serve-child.js';

const root = process.env.PENDING_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..');
const items = Number(process.env.PENDING_BENCH_ITEMS ?? 200_000);
const windows = Number(process.env.PENDING_BENCH_WINDOWS ?? 3);
const rate = Number(process.env.PENDING_BENCH_RATE ?? 1000);
const port = 18_000 + (process.pid % 1000);
const url = `http://127.0.0.1:${port}`;
const TICKS = 100; // USER_HZ on Linux

/** CPU seconds per thread id of `pid` (utime + stime from /proc/<pid>/task/<tid>/stat). */
function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / TICKS);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

function startServe(model: string, db: string): Promise<ChildProcess> {
  return startServeChild(
    root,
    ['--model', model, '--store', `sqlite:${db}`, '--port', `${port}`],
    url,
    'warn',
  );
}

function p99(label: string, dir: string): void {
  const body = JSON.stringify({ records: customerRequests(1, 7) });
  const r = heyFixedRate(`${url}/predict`, body, rate, 10, dir);
  console.log(
    `${label}: POST /predict at ${rate} req/s for 10 s: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (non-200: ${r.non200}); load ${loadavg()[0]!.toFixed(2)}`,
  );
}

async function flood(): Promise<number> {
  const started = performance.now();
  const batch = 1000;
  let next = 0;
  const sender = async () => {
    for (;;) {
      const from = next;
      next += batch;
      if (from >= items) return;
      const records = Array.from({ length: Math.min(batch, items - from) }, (_, k) => ({
        prediction_id: `never-${from + k}`,
        churn: k % 2,
      }));
      const res = await fetch(`${url}/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ records }),
      });
      if (!res.ok) throw new Error(`POST /feedback: ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, sender));
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'churnwatch-pending-bench-'));
  const models = await trainSmallModel();
  const server = await startServe(join(models, 'latest'), join(dir, 'p.db'));
  const pid = server.pid!;
  try {
    console.log(`serve from ${root}; ${items.toLocaleString('en')} unjoinable feedback items`);
    p99('before the flood', dir);
    const seconds = await flood();
    console.log(`flood: ${items.toLocaleString('en')} items in ${seconds.toFixed(1)} s`);
    for (let w = 0; w < windows; w++) {
      const before = threadCpu(pid);
      await new Promise((r) => setTimeout(r, 30_000));
      const after = threadCpu(pid);
      const deltas = [...after].map(([tid, cpu]) => [tid, cpu - (before.get(tid) ?? 0)] as const);
      const total = deltas.reduce((sum, [, d]) => sum + d, 0);
      const main = deltas.find(([tid]) => tid === pid)?.[1] ?? 0;
      const busiest = deltas.filter(([tid]) => tid !== pid).sort((a, b) => b[1] - a[1])[0]?.[1] ?? 0;
      const share = (s: number) => `${((s / 30) * 100).toFixed(1)} %`;
      console.log(
        `idle ${w * 30}-${(w + 1) * 30} s after the flood: process ${share(total)} of a core, main thread ${share(main)}, busiest other thread (writer) ${share(busiest)}; load ${loadavg()[0]!.toFixed(2)}`,
      );
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const line of metrics.split('\n'))
      if (/^churnwatch_feedback_pending/.test(line)) console.log(`  ${line}`);
    p99('after the flood', dir);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
