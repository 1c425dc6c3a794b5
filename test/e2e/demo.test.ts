/**
 * `churnwatch demo` on an empty directory, as a user runs it (a child process): it generates data,
 * trains, serves, simulates; it must serve predictions within a bounded time, and SIGINT must stop
 * everything with exit code 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../helpers/free-port.js';
import { repoRoot } from '../helpers/shared-files.js';
import { waitFor } from '../helpers/wait-for.js';

test('npm run demo on an empty directory serves predictions, then SIGINT exits 0', {
  timeout: 150_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'churnwatch-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'churnwatch.js'),
      'demo',
      '--dir',
      dir,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--rows',
      '8000',
      '--trees',
      '30',
      '--rate',
      '40',
      '--drift-after',
      '5s',
      '--prometheus',
      'http://127.0.0.1:9',
    ],
    { cwd: dir, env: { ...process.env, CHURNWATCH_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  // Served predictions, seen through the service: the prediction counter of /metrics grows.
  let predictions = 0;
  await waitFor(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`the demo exited (${child.exitCode})\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      try {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        predictions = text
          .split('\n')
          .filter((l) => l.startsWith('churnwatch_predictions_total{'))
          .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      } catch {
        return false; // not up yet
      }
      return predictions >= 50;
    },
    {
      what: '50 predictions served by the demo',
      timeoutMs: 110_000,
      intervalMs: 500,
      describe: () => `served ${predictions}\nstdout:\n${stdout}\nstderr:\n${stderr}`,
    },
  );
  assert.match(stdout, new RegExp(`dashboard: +http://127\\.0\\.0\\.1:${port}/dashboard`));
  assert.match(stdout, /prometheus: +http:\/\/127\.0\.0\.1:9/);
  const dash = await fetch(`http://127.0.0.1:${port}/dashboard/data.json?range=5m`);
  assert.equal(dash.status, 200);
  assert.ok(existsSync(join(dir, 'models', 'latest')));
  assert.ok(existsSync(join(dir, 'data', 'demo-holdout.csv')));

  child.kill('SIGINT');
  const code = await Promise.race([
    exited,
    new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000)),
  ]);
  assert.equal(code, 0, `exit ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  assert.match(stdout, /demo stopped: \d+ predictions/);
  // The server is gone.
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
});
