import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/shared-files.js';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, [join(repoRoot, 'bin', 'churnwatch.js'), ...args], { env: process.env });

// The CLI loads only the module of the command it runs (src/cli/main.ts); these check that every
// command is still reachable and helped that way, and that anything else still sees them all.
const COMMANDS = [
  'data',
  'train',
  'import',
  'profile',
  'predict',
  'serve',
  'monitor',
  'report',
  'simulate',
  'demo',
  'provision',
];

describe('churnwatch --help', () => {
  it('lists every command, in data-flow order', async () => {
    const { stdout } = await cli(['--help']);
    const listed = [...stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]);
    assert.deepEqual(
      listed.filter((name) => name !== 'help'),
      COMMANDS,
    );
  });

  it('helps each command when it is the one named', async () => {
    const helps = await Promise.all(COMMANDS.map((name) => cli([name, '--help'])));
    helps.forEach(({ stdout }, i) => {
      assert.match(stdout, new RegExp(`^Usage: churnwatch ${COMMANDS[i]} `), COMMANDS[i]);
    });
    assert.match(helps[COMMANDS.indexOf('serve')]!.stdout, /--batch-limit <n>/);
    const { stdout } = await cli(['help', 'serve']);
    assert.match(stdout, /^Usage: churnwatch serve /);
  });

  it('answers an unknown command with the nearest one and exit code 1', async () => {
    await assert.rejects(cli(['sreve']), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr ?? '', /unknown command 'sreve'[\s\S]*Did you mean serve\?/);
      return true;
    });
  });
});
