/**
 * `churnwatch serve` as a child process for the benches that watch a server from outside
 * (pending-flood, soak): bin/churnwatch.js of `root` (its sources, in a checkout), stderr shown.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** Starts `churnwatch serve <args>` logging at `logLevel`; resolves once `url`/readyz answers 200. */
export async function startServeChild(
  root: string,
  args: readonly string[],
  url: string,
  logLevel: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(root, 'bin', 'churnwatch.js'), 'serve', ...args], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CHURNWATCH_LOG_LEVEL: logLevel },
  });
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`serve exited (${child.exitCode})`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return child;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  throw new Error('serve did not become ready in 60 s');
}
