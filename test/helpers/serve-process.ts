import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { repoRoot } from './shared-files.js';
import { trainSmallModel } from './train-small-model.js';
import { waitFor } from './wait-for.js';

export interface ServeExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ServeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Its output so far. */
  readonly out: { stdout: string; stderr: string };
  readonly exited: Promise<ServeExit>;
  /** Resolves once it prints that it is serving; throws if it exits first or takes over `timeoutMs`. */
  serving(timeoutMs?: number): Promise<void>;
}

/** The flags of a server on 127.0.0.1:`port` serving the model at `modelDir` with the store at `storeUrl`. */
export function localServeArgs(port: number, modelDir: string, storeUrl: string): string[] {
  return ['--port', String(port), '--host', '127.0.0.1', '--model', modelDir, '--store', storeUrl];
}

/** `churnwatch serve <args>` as a child process from the sources, with `env` as its whole environment. */
export function spawnServe(args: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'serve', ...args],
    {
      cwd: repoRoot,
      env,
    },
  );
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<ServeExit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout: out.stdout, stderr: out.stderr })),
  );
  return {
    child,
    out,
    exited,
    async serving(timeoutMs = 30_000) {
      await waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`serve exited (${child.exitCode}):\n${out.stderr}`);
          return out.stdout.includes('churnwatch serving');
        },
        { what: 'serve to start', timeoutMs, describe: () => out.stderr },
      );
    },
  };
}

/** spawnServe on 127.0.0.1 at a free port, serving the tests' small model on `storeUrl`, with `extra` flags. */
export async function serveSmallModel(
  storeUrl: string,
  extra: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServeProcess & { readonly port: number }> {
  const models = await trainSmallModel();
  const port = await freePort();
  return { ...spawnServe([...localServeArgs(port, join(models, 'latest'), storeUrl), ...extra], env), port };
}
