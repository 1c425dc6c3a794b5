/**
 * `churnwatch provision`: writes the generated parts of deploy/ (Prometheus config and rules, Grafana
 * dashboards) from src/provisioning/, or with --check reports the files that differ from what the code
 * generates (for CI and pre-commit). `--model` generates them for that model's features (the dashboards
 * open on its most important ones); without it, the committed Expresso files.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { cliCommand } from '../../cli-command.js';
import { ChurnwatchError } from '../../errors.js';
import { hiddenAlias } from '../hidden-alias.js';
import { createCliLogger } from '../logger.js';

export interface ProvisionOptions {
  /** The deploy folder (default `deploy`). */
  readonly out: string;
  readonly check: boolean;
  /** A model artifact (models/latest): generate for its features. */
  readonly model?: string | undefined;
}

export interface ProvisionResult {
  readonly out: string;
  readonly files: readonly {
    readonly path: string;
    readonly status: 'written' | 'unchanged' | 'differs' | 'missing';
  }[];
  /** With --check: true when every file matches. */
  readonly ok: boolean;
}

export async function runProvision(options: ProvisionOptions): Promise<ProvisionResult> {
  // Loaded lazily: the dashboards need @grafana/grafana-foundation-sdk, a development dependency,
  // and `serve` in a production image must not pay for (or fail on) it.
  let generated: typeof import('../../provisioning/generated-files.js');
  try {
    generated = await import('../../provisioning/generated-files.js');
  } catch (error) {
    throw new ChurnwatchError('CW_PROVISION_UNAVAILABLE', 'the provisioning generator could not be loaded', {
      hint: `run ${cliCommand('provision')} from a development checkout (npm ci installs @grafana/grafana-foundation-sdk)`,
      cause: error,
    });
  }
  const model = options.model
    ? await (await import('../../provisioning/provision-model.js')).loadProvisionModel(options.model)
    : undefined;
  const out = resolve(options.out);
  const files: ProvisionResult['files'][number][] = [];
  for (const file of generated.generatedFiles(undefined, model)) {
    const path = join(out, file.path);
    let current: string | undefined;
    try {
      current = await readFile(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === file.content) {
      files.push({ path: file.path, status: 'unchanged' });
    } else if (options.check) {
      files.push({ path: file.path, status: current === undefined ? 'missing' : 'differs' });
    } else {
      try {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, file.content);
      } catch (error) {
        throw new ChurnwatchError('CW_PROVISION_WRITE', `cannot write ${path}: ${(error as Error).message}`, {
          hint: 'check that --out points at a writable folder',
          cause: error,
        });
      }
      files.push({ path: file.path, status: 'written' });
    }
  }
  const ok = files.every((f) => f.status === 'unchanged' || f.status === 'written');
  return { out, files, ok };
}

export function registerProvisionCommand(program: Command): void {
  const command = program
    .command('provision')
    .description(
      'Generate the Prometheus config, recording/alerting rules and Grafana dashboards under deploy/.',
    )
    .option(
      '--out <dir>',
      'deploy folder to write (env CHURNWATCH_DEPLOY_DIR)',
      process.env.CHURNWATCH_DEPLOY_DIR ?? 'deploy',
    )
    .option(
      '--model <dir>',
      "generate for this model's features, e.g. models/latest (default: the Expresso files)",
    )
    .option('--check', 'write nothing; fail if a generated file differs from the code', false)
    .option('--json', 'print the result as JSON', false);
  hiddenAlias(command, '--output <dir>', 'out');
  command.action(async (flags: { out: string; check: boolean; json: boolean; model?: string }) => {
    const log = createCliLogger('provision');
    const result = await runProvision({ out: flags.out, check: flags.check, model: flags.model });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      for (const f of result.files)
        process.stdout.write(`${f.status.padEnd(9)} ${join(flags.out, f.path)}\n`);
    }
    log.debug({ out: result.out, files: result.files.length }, 'provision done');
    if (!result.ok) {
      const stale = result.files
        .filter((f) => f.status === 'differs' || f.status === 'missing')
        .map((f) => f.path);
      throw new ChurnwatchError(
        'CW_PROVISION_STALE',
        `generated files differ from the code: ${stale.join(', ')}`,
        {
          hint: `run ${cliCommand('provision')} and commit the result`,
        },
      );
    }
  });
}
