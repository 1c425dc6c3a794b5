import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './shared-files.js';

const run = promisify(execFile);

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `churnwatch <args>` (bin/churnwatch.js) as a child process; resolves with its exit code and output, pass or fail. */
export async function runCli(args: readonly string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repoRoot, 'bin', 'churnwatch.js'), ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `churnwatch predict --model <model> --input <input> --output <dir>/scored.csv`; the lines written (exit 0 asserted). */
export async function predictThroughCli(model: string, input: string, dir: string): Promise<string[]> {
  const scored = join(dir, 'scored.csv');
  const result = await runCli(['predict', '--model', model, '--input', input, '--output', scored]);
  if (result.code !== 0) throw new Error(`churnwatch predict exited ${result.code}: ${result.stderr}`);
  return (await readFile(scored, 'utf8')).trimEnd().split('\n');
}
