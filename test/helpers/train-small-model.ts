import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './shared-files.js';

let cached: Promise<string> | undefined;

function cli(args: readonly string[]): void {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...args],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, CHURNWATCH_LOG_LEVEL: 'warn' },
    },
  );
  if (result.status !== 0) {
    throw new Error(
      `churnwatch ${args.join(' ')} failed (exit ${result.status}):\n${result.stderr}\n${result.stdout}`,
    );
  }
}

/**
 * Trains a real model on ~5k synthetic rows through the CLI (`data generate` then `train`) once per
 * test process and returns the models directory (holding <version>/ and latest). Removed at exit.
 */
export function trainSmallModel(rows = 5000, seed = 11): Promise<string> {
  // For quick local loops: reuse a models directory trained earlier (it must hold `latest`).
  const reuse = process.env.CHURNWATCH_TEST_MODELS_DIR;
  if (reuse) return Promise.resolve(reuse);
  cached ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'churnwatch-model-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const data = join(dir, 'train.csv');
    const models = join(dir, 'models');
    cli(['data', 'generate', '--rows', String(rows), '--seed', String(seed), '--output', data]);
    cli(['train', '--data', data, '--rows', String(rows), '--models', models]);
    return models;
  })();
  return cached;
}
