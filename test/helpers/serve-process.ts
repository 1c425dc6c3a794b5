import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './shared-files.js';
import { waitFor } from './wait-for.js';

/** How a `churnwatch serve` child process ended. */
export interface ServeExit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ServeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** What it printed so far. */
  readonly out: { stdout: string; stderr: string };
  readonly exited: Promise<ServeExit>;
}

/** The flags of a server on 127.0.0.1:`port` serving the model at `modelDir` with the store at `storeUrl`. */
export function localServeArgs(port: number, modelDir: string, storeUrl: string): string[] {
  return ['--port', String(port), '--host', '127.0.0.1', '--model', modelDir, '--store', storeUrl];
}

/** `churnwatch serve <args>` from the sources, as a child process with `env`. */
export function spawnServe(args: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'serve', ...args],
    { cwd: repoRoot, env },
  );
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<ServeExit>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout: out.stdout, stderr: out.stderr })),
  );
  return { child, out, exited };
}

/** Waits until `run` says it is serving; fails at once if it exited, showing its stderr. */
export async function waitForServing(run: ServeProcess, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    () => {
      if (run.child.exitCode !== null) throw new Error(`serve exited (${run.child.exitCode})`);
      return run.out.stdout.includes('churnwatch serving');
    },
    { what: 'serve to start', timeoutMs, describe: () => run.out.stderr },
  );
}
