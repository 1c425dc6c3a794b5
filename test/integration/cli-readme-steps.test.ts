/**
 * The step-by-step commands of README.md and docs/demo.md, run as written, in a fresh temporary
 * directory as a newcomer would in a clone: each line of the fenced block is run in order (the
 * comments dropped), `npm run X` as package.json's script X says, `npx churnwatch …` as the package's
 * bin, and `serve` in the background as the README's first terminal. Two substitutions, both said here:
 * there is no internet, so `npm run download-data` runs the offline line its comment gives (with 20,000
 * rows instead of 100,000, to keep the test short); and the port, rate and label delay come from the
 * environment (CHURNWATCH_PORT, CHURNWATCH_URL, CHURNWATCH_SIM_RATE, CHURNWATCH_SIM_DELAY), which every
 * command reads, so the commands stay as written.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../helpers/free-port.js';
import { repoRoot } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);
const BIN = join(repoRoot, 'bin', 'churnwatch.js');
const TEST_ROWS = '20000';

/**
 * The commands of the first fenced block after `marker`, each with its comment (and the comment-only
 * lines that continue it); blank and comment-only lines are not commands.
 */
function stepCommands(markdown: string, marker: string): { command: string; comment: string }[] {
  const from = markdown.indexOf(marker);
  assert.ok(from >= 0, `no "${marker}" in the document`);
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(markdown.slice(from));
  assert.ok(block, `no code block after "${marker}"`);
  const lines = block[1]!.split('\n');
  const steps: { command: string; comment: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const hash = line.indexOf('#');
    const command = (hash < 0 ? line : line.slice(0, hash)).trim();
    if (command === '') continue;
    const comment = [hash < 0 ? '' : line.slice(hash)];
    for (let k = i + 1; k < lines.length && lines[k]!.trim().startsWith('#'); k++) comment.push(lines[k]!);
    steps.push({ command, comment: comment.join(' ') });
  }
  return steps;
}

/** The argv a documented command runs: npm scripts as package.json says, npx churnwatch as the bin. */
async function argv(step: { command: string; comment: string }): Promise<string[]> {
  let words = step.command.split(/\s+/);
  if (words.join(' ') === 'npm run download-data') {
    const offline = /npx churnwatch data generate --rows \d+/.exec(step.comment);
    assert.ok(offline, `the download step gives no offline command: ${step.comment}`);
    words = offline[0].replace(/--rows \d+/, `--rows ${TEST_ROWS}`).split(' ');
  }
  if (words[0] === 'npm' && words[1] === 'run') {
    const scripts = (
      JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    const script = scripts[words[2]!];
    assert.ok(script, `no npm script ${words[2]}`);
    const extra = words[3] === '--' ? words.slice(4) : words.slice(3);
    words = [...script.split(/\s+/), ...extra];
  } else if (words[0] === 'npx' && words[1] === 'churnwatch') {
    words = ['node', 'bin/churnwatch.js', ...words.slice(2)];
  }
  assert.deepEqual(
    words.slice(0, 2),
    ['node', 'bin/churnwatch.js'],
    `not a churnwatch command: ${step.command}`,
  );
  return [process.execPath, BIN, ...words.slice(2)];
}

interface Outputs {
  [command: string]: string;
}

/** Runs the steps in `cwd`; `serve` in the background until the rest is done. Returns each step's stdout. */
async function runSteps(steps: { command: string; comment: string }[], cwd: string): Promise<Outputs> {
  const port = await freePort();
  const env = {
    ...process.env,
    CHURNWATCH_PORT: String(port),
    CHURNWATCH_HOST: '127.0.0.1',
    CHURNWATCH_URL: `http://127.0.0.1:${port}`,
    CHURNWATCH_SIM_RATE: '1000',
    CHURNWATCH_SIM_DELAY: '0s..10s',
    CHURNWATCH_LOG_LEVEL: 'warn',
  };
  const outputs: Outputs = {};
  let server: ChildProcess | undefined;
  try {
    for (const step of steps) {
      const [node, ...args] = await argv(step);
      if (args[1] === 'serve') {
        server = spawn(node!, args, { cwd, env, stdio: 'ignore' });
        await waitFor(
          async () => (await fetch(`${env.CHURNWATCH_URL}/readyz`).catch(() => undefined))?.ok === true,
          { what: `${step.command} answering on port ${port}`, timeoutMs: 60_000, intervalMs: 200 },
        );
        continue;
      }
      const { stdout } = await run(node!, args, { cwd, env }).catch((error: { stderr?: string }) => {
        throw new Error(`${step.command} failed:\n${error.stderr}`);
      });
      outputs[step.command] = stdout;
    }
  } finally {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
  }
  return outputs;
}

const labels = (out: string | undefined) => {
  const m = /^done: (\d+) labels posted for (\d+) predictions \(joined (\d+)\)/m.exec(out ?? '');
  assert.ok(m, `no feedback summary in: ${out}`);
  return { posted: Number(m[1]), predictions: Number(m[2]), joined: Number(m[3]) };
};

describe('step-by-step commands, as written', () => {
  it('README: data, model, API; then predictions and their feedback arrive', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const steps = stepCommands(readme, 'step by step against a running API');
    assert.ok(steps.some((s) => /\bserve\b/.test(s.command)));
    await withTempDir(async (dir) => {
      const out = await runSteps(steps, dir);
      assert.match(out['npm run simulate-predictions'] ?? '', /^done: 2000 rows .*; 0 rejected/m);
      const fed = labels(out['npm run simulate-feedback']);
      assert.equal(fed.predictions, 2000);
      // 80 % coverage: about 1,600 labels, all joined to their prediction.
      assert.ok(fed.posted > 1400 && fed.posted < 1800, JSON.stringify(fed));
      assert.equal(fed.joined, fed.posted);
    });
  });

  it('docs/demo.md: split, train, serve; then held-out predictions and their feedback arrive', async () => {
    const demo = await readFile(join(repoRoot, 'docs', 'demo.md'), 'utf8');
    const steps = stepCommands(demo, 'The simulators against a running API');
    await withTempDir(async (dir) => {
      const out = await runSteps(steps, dir);
      const sent = Object.entries(out).find(([command]) =>
        command.startsWith('npm run simulate-predictions'),
      );
      assert.match(sent?.[1] ?? '', /^done: 3000 rows .*; 0 rejected/m);
      const fed = labels(out['npm run simulate-feedback']);
      assert.equal(fed.predictions, 3000);
      assert.ok(fed.posted > 2100, JSON.stringify(fed));
      assert.equal(fed.joined, fed.posted);
    });
  });
});
