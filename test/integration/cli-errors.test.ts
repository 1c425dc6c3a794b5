/**
 * How the CLI reports a failure (src/cli/main.ts, the one exit point): coded errors as code, message
 * and hint; anything else as its message, or with --debug / CHURNWATCH_DEBUG=1 as its stack.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);

/** Runs the CLI expecting it to fail; returns its stderr after checking exit code 1. */
async function failing(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const childEnv = { ...process.env, CHURNWATCH_DEBUG: '', ...env };
  const result = await run(process.execPath, [join(repoRoot, 'bin', 'churnwatch.js'), ...args], {
    env: childEnv,
  }).then(
    () => assert.fail(`churnwatch ${args.join(' ')} succeeded`),
    (error: { code?: number; stderr?: string }) => error,
  );
  assert.equal(result.code, 1);
  return result.stderr ?? '';
}

// A directory where a CSV file is expected: the reader's EISDIR is not one of our coded errors.
const unexpected = (dir: string) => ['data', 'split', '--input', dir, '--train-rows', '1', '--quiet'];
const STACK_FRAME = /\n\s+at .+\(?.+:\d+:\d+\)?/;

describe('churnwatch error output', () => {
  it('prints an unexpected error as one message and says how to see more', async () => {
    await withTempDir(async (dir) => {
      const stderr = await failing(unexpected(dir));
      assert.match(stderr, /^error: EISDIR/m);
      assert.doesNotMatch(stderr, STACK_FRAME);
      assert.match(stderr, /--debug or CHURNWATCH_DEBUG=1/);
    });
  });

  it('keeps the stack with --debug, before or after the command, or CHURNWATCH_DEBUG=1', async () => {
    await withTempDir(async (dir) => {
      const outputs = await Promise.all([
        failing(['--debug', ...unexpected(dir)]),
        failing([...unexpected(dir), '--debug']),
        failing(unexpected(dir), { CHURNWATCH_DEBUG: '1' }),
      ]);
      for (const stderr of outputs) {
        assert.match(stderr, /^error: Error: EISDIR/m);
        assert.match(stderr, STACK_FRAME);
      }
    });
  });

  it('prints a coded error as code, message and hint, with or without --debug', async () => {
    for (const debug of [[], ['--debug']]) {
      const stderr = await failing([
        ...debug,
        'report',
        '--reference',
        'a.csv',
        '--current',
        'b.csv',
        '--threshold',
        '2',
      ]);
      assert.equal(
        stderr,
        'error CW_REPORT_BAD_OPTION: --threshold must be a number in [0, 1], got "2"\n  hint: e.g. --threshold 0.5\n',
      );
    }
  });
});
