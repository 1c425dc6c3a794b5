import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

/**
 * Finds an external program a test needs (prometheus, promtool, pushgateway, chromium…). Outside CI a
 * missing program skips the test with the reason; under CI=true it fails it, because CI must have
 * installed everything (.ci/run does).
 */
export function requireBinary(t: TestContext, candidates: readonly string[]): string | undefined {
  for (const path of candidates) if (existsSync(path)) return path;
  const message = `none of ${candidates.join(', ')} is installed`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI must install it: see .ci/run)`);
  t.skip(message);
  return undefined;
}

export const PROMETHEUS = ['/usr/bin/prometheus'];
export const PROMTOOL = ['/usr/bin/promtool'];
export const PUSHGATEWAY = ['/usr/bin/prometheus-pushgateway', '/usr/bin/pushgateway'];
export const ALERTMANAGER = ['/usr/bin/prometheus-alertmanager', '/usr/bin/alertmanager'];
export const CHROMIUM = ['/usr/bin/chromium'];

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Starts a long-running program, keeps its output for failure messages, and stops it with SIGTERM. */
export function startProcess(command: string, args: readonly string[], cwd?: string): RunningProcess {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  return {
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Polls `url` until it answers 2xx or the deadline passes. */
export async function waitForHttp(url: string, timeoutMs = 15000, describe = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      lastError = `HTTP ${res.status}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms (${lastError})\n${describe()}`);
}
