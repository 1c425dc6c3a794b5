/**
 * What client tokens and the rate limit cost on POST /predict (one record): the same server built
 * three ways in this process (off, the default; tokens; tokens and a limit no client reaches), each
 * loaded in turn by wrk (another process), alternating, best of `ROUNDS` runs each.
 * Usage: node --import tsx bench/client-access.bench.ts   (CHURNWATCH_BENCH_SECONDS=5 by default; needs wrk)
 * wrk shares the two cores with the server: compare the ratios, not the absolute figures.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadModel } from '../src/model/model-io.js';
import type { ServeConfig } from '../src/server/config.js';
import { openStore } from '../src/store/open-store.js';
import { buildTestApp, customerRequests } from '../test/helpers/server-harness.js';
import { trainSmallModel } from '../test/helpers/train-small-model.js';

const seconds = Number(process.env.CHURNWATCH_BENCH_SECONDS ?? 5);
const ROUNDS = 3;
const TOKEN = 'bench-token-0123456789abcdef';

/** wrk runs asynchronously: the servers answer from this process's event loop meanwhile. */
async function wrk(url: string, script: string): Promise<number> {
  const args = ['-t1', '-c32', `-d${seconds}s`, '-s', script, url];
  const { stdout } = await promisify(execFile)('/usr/bin/wrk', args, { encoding: 'utf8' });
  if (/Non-2xx/.test(stdout)) throw new Error(`refusals during the run:\n${stdout}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
}

const dir = mkdtempSync(join(tmpdir(), 'churnwatch-bench-auth-'));
try {
  const model = await loadModel(join(await trainSmallModel(), 'latest'));
  const body = join(dir, 'body.json');
  writeFileSync(body, JSON.stringify(customerRequests(1, 5)[0]));
  const variants: { name: string; config: Partial<ServeConfig> }[] = [
    { name: 'off (default)', config: {} },
    { name: 'tokens', config: { apiTokens: [TOKEN, `${TOKEN}-2`] } },
    {
      name: 'tokens + rate limit',
      config: { apiTokens: [TOKEN, `${TOKEN}-2`], rateLimit: { max: 1e9, windowMs: 60_000 } },
    },
  ];
  const servers = [];
  for (const [i, v] of variants.entries()) {
    const store = openStore(`sqlite:${join(dir, `bench-${i}.db`)}`);
    await store.migrate();
    const app = await buildTestApp({ store, model, config: { maxQueue: 1_000_000, ...v.config } });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const script = join(dir, `post-${i}.lua`);
    writeFileSync(
      script,
      `local f = io.open("${body}", "r")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\n` +
        `wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${TOKEN}"\n`,
    );
    servers.push({ ...v, app, store, url: `${url}/predict`, script, best: 0 });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of servers) s.best = Math.max(s.best, await wrk(s.url, s.script));
  }
  const base = servers[0]!.best;
  for (const s of servers)
    console.log(
      `${s.name.padEnd(22)} ${s.best.toFixed(0).padStart(7)} req/s  ×${(s.best / base).toFixed(3)}`,
    );
  for (const s of servers) {
    await s.app.close();
    await s.store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
