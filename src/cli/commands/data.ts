/**
 * `churnwatch data`: get the training data. `download` fetches the real Train.csv (Kaggle, a URL, a
 * local zip or csv), `generate` writes a synthetic one faithful to the public profile (offline), `split`
 * cuts a file into a training part and a held-out part for the simulators.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createOptionReader } from '../../config/option-values.js';
import {
  type DownloadCredentials,
  type DownloadResult,
  downloadTrainCsv,
  KAGGLE_DATASET_URL,
} from '../../data/download.js';
import { type SplitResult, splitCsvFile } from '../../data/split.js';
import { type WriteSyntheticResult, writeSyntheticCsv } from '../../data/synthetic.js';
import { ChurnwatchError } from '../../errors.js';
import { hiddenAlias } from '../hidden-alias.js';
import { createCliLogger } from '../logger.js';
import { createProgress, withProgress } from '../progress.js';

export interface DownloadCommandOptions {
  readonly dest: string;
  readonly from: string;
  readonly quiet?: boolean;
  /** Where to look for credentials (tests pass their own). */
  readonly env?: NodeJS.ProcessEnv;
  readonly fetch?: typeof fetch;
}

export interface GenerateCommandOptions {
  readonly rows: number;
  readonly seed: number;
  readonly out: string;
  readonly quiet?: boolean;
}

export interface SplitCommandOptions {
  readonly input: string;
  /** Without trainRows or trainFraction: SPLIT_DEFAULTS.trainFraction. */
  readonly trainRows?: number;
  readonly trainFraction?: number;
  readonly trainOut: string;
  readonly holdoutOut: string;
  readonly quiet?: boolean;
}

/** Kaggle credentials from KAGGLE_USERNAME/KAGGLE_KEY, else ~/.kaggle/kaggle.json (or $KAGGLE_CONFIG_DIR). */
export async function kaggleCredentials(
  env: NodeJS.ProcessEnv = process.env,
): Promise<DownloadCredentials | undefined> {
  if (env.KAGGLE_USERNAME && env.KAGGLE_KEY) return { username: env.KAGGLE_USERNAME, key: env.KAGGLE_KEY };
  const path = join(env.KAGGLE_CONFIG_DIR ?? join(env.HOME ?? homedir(), '.kaggle'), 'kaggle.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as { username?: unknown; key?: unknown };
    if (typeof parsed.username === 'string' && typeof parsed.key === 'string') {
      return { username: parsed.username, key: parsed.key };
    }
  } catch {
    // fall through to the error below
  }
  throw new ChurnwatchError(
    'CW_DATA_KAGGLE_CONFIG',
    `${path} is not a Kaggle API token ({"username": …, "key": …})`,
    {
      hint: 'download a fresh token from kaggle.com → Settings → API, or set KAGGLE_USERNAME and KAGGLE_KEY',
    },
  );
}

export async function runDownload(options: DownloadCommandOptions): Promise<DownloadResult> {
  const log = createCliLogger('data-download');
  const isUrl = /^https?:\/\//i.test(options.from);
  const credentials = isUrl ? await kaggleCredentials(options.env) : undefined;
  log.info(
    { source: options.from, dest: options.dest, authenticated: credentials !== undefined },
    'downloading Train.csv',
  );
  let progress: ReturnType<typeof createProgress> | undefined;
  let result: DownloadResult;
  try {
    result = await downloadTrainCsv({
      source: options.from,
      destDir: options.dest,
      fetch: options.fetch ?? fetch,
      ...(credentials ? { credentials } : {}),
      onProgress: (bytes, total) => {
        progress ??= createProgress('download', total, { enabled: !options.quiet, unit: 'bytes' });
        progress.update(bytes);
      },
    });
  } catch (error) {
    progress?.fail();
    throw error;
  }
  progress?.stop();
  log.info({ path: result.path, bytes: result.bytes }, 'Train.csv ready');
  return result;
}

export async function runGenerate(
  options: GenerateCommandOptions,
): Promise<WriteSyntheticResult & { path: string; seconds: number }> {
  const t0 = performance.now();
  const progress = createProgress('generate', options.rows, { enabled: !options.quiet });
  const result = await withProgress(progress, () =>
    writeSyntheticCsv(options.out, { rows: options.rows, seed: options.seed }, (n) => progress.update(n)),
  );
  return { ...result, path: options.out, seconds: (performance.now() - t0) / 1000 };
}

export async function runSplit(
  options: SplitCommandOptions,
): Promise<SplitResult & { trainOut: string; holdoutOut: string }> {
  const progress = createProgress('split', undefined, { enabled: !options.quiet });
  const { trainRows, trainFraction } = options;
  // Neither given: the default share; both given: splitCsvFile refuses the pair.
  const size =
    trainRows === undefined && trainFraction === undefined
      ? { trainFraction: SPLIT_DEFAULTS.trainFraction }
      : {
          ...(trainRows !== undefined ? { trainRows } : {}),
          ...(trainFraction !== undefined ? { trainFraction } : {}),
        };
  const result = await withProgress(progress, () =>
    splitCsvFile({
      input: options.input,
      trainOut: options.trainOut,
      holdoutOut: options.holdoutOut,
      ...size,
      onProgress: (n) => progress.update(n),
    }),
  );
  return { ...result, trainOut: options.trainOut, holdoutOut: options.holdoutOut };
}

const BAD_OPTION = { code: 'CW_DATA_BAD_OPTION' } as const;

/** The real Train.csv's size, which `data generate` writes unless told --rows. */
export const GENERATE_DEFAULTS = Object.freeze({ rows: 2_154_048, seed: 42, output: 'data/train.csv' });

export const SPLIT_DEFAULTS = Object.freeze({
  data: 'data/train.csv',
  trainFraction: 0.8,
  trainOutput: 'data/train-part.csv',
  holdoutOutput: 'data/holdout.csv',
});

function print(json: boolean | undefined, result: object, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${text}\n`);
}

export function registerDataCommand(program: Command): void {
  const data = program
    .command('data')
    .description('Get the training data: download, generate or split Train.csv.');

  data
    .command('download')
    .description(
      'Download the real Expresso Train.csv (Kaggle zip, any URL, a local .zip or .csv) to <dest>/train.csv. ' +
        'Kaggle needs KAGGLE_USERNAME/KAGGLE_KEY or ~/.kaggle/kaggle.json.',
    )
    .option('--dest <dir>', 'directory for train.csv (env CHURNWATCH_DATA_DIR, default data/)')
    .option(
      '--from <url|file>',
      `source URL or local file (env CHURNWATCH_DATA_SOURCE, default ${KAGGLE_DATASET_URL})`,
    )
    .option('--quiet', 'no progress bar')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { dest?: string; from?: string; quiet?: boolean; json?: boolean }) => {
      const result = await runDownload({
        dest: flags.dest ?? process.env.CHURNWATCH_DATA_DIR ?? 'data',
        from: flags.from ?? process.env.CHURNWATCH_DATA_SOURCE ?? KAGGLE_DATASET_URL,
        quiet: flags.quiet ?? false,
      });
      print(
        flags.json,
        result,
        `${result.path}: ${result.bytes} bytes from ${result.source}${result.zipEntry ? ` (${result.zipEntry})` : ''}`,
      );
    });

  const generate = data
    .command('generate')
    .description(
      'Write a synthetic Train.csv faithful to the public profile of the real one (offline, deterministic).',
    )
    .option(
      '--rows <n>',
      'rows to write (env CHURNWATCH_GENERATE_ROWS, default 2154048 as the real file, about 232 MB; --rows 100000 writes about 11 MB)',
    )
    .option(
      '--seed <n>',
      `random seed; the same seed writes the same bytes (env CHURNWATCH_SEED, default ${GENERATE_DEFAULTS.seed})`,
    )
    .option('--output <file>', `CSV to write (env CHURNWATCH_OUTPUT, default ${GENERATE_DEFAULTS.output})`)
    .option('--quiet', 'no progress bar')
    .option('--json', 'print the result as JSON')
    .action(
      async (flags: { rows?: string; seed?: string; output?: string; quiet?: boolean; json?: boolean }) => {
        const opt = createOptionReader(flags, process.env, BAD_OPTION);
        const result = await runGenerate({
          rows:
            opt.integer('rows', 'CHURNWATCH_GENERATE_ROWS', { min: 0, example: '100000' }) ??
            GENERATE_DEFAULTS.rows,
          seed: opt.integer('seed', 'CHURNWATCH_SEED', { min: 0, example: '42' }) ?? GENERATE_DEFAULTS.seed,
          out:
            opt.string('output', ['CHURNWATCH_OUTPUT', 'CHURNWATCH_DATA_FILE']) ?? GENERATE_DEFAULTS.output,
          quiet: flags.quiet ?? false,
        });
        print(
          flags.json,
          result,
          `${result.path}: ${result.rows} rows, churn rate ${result.churnRate.toFixed(4)}, ${result.bytes} bytes in ${result.seconds.toFixed(1)} s`,
        );
      },
    );
  hiddenAlias(generate, '--out <file>', 'output');

  const split = data
    .command('split')
    .description(
      'Split a CSV into a training part (the first rows) and a held-out part (the rest), header in both.',
    )
    .option('--data <file>', `CSV to split (env CHURNWATCH_DATA, default ${SPLIT_DEFAULTS.data})`)
    .option('--train-rows <n>', 'rows for training (instead of --train-fraction)')
    .option(
      '--train-fraction <f>',
      `share of rows for training (default ${SPLIT_DEFAULTS.trainFraction} when --train-rows is not given)`,
    )
    .option('--train-output <file>', `training part (default ${SPLIT_DEFAULTS.trainOutput})`)
    .option('--holdout-output <file>', `held-out part (default ${SPLIT_DEFAULTS.holdoutOutput})`)
    .option('--quiet', 'no progress output')
    .option('--json', 'print the result as JSON')
    .action(
      async (flags: {
        data?: string;
        trainRows?: string;
        trainFraction?: string;
        trainOutput?: string;
        holdoutOutput?: string;
        quiet?: boolean;
        json?: boolean;
      }) => {
        const opt = createOptionReader(flags, process.env, BAD_OPTION);
        const trainRows = opt.integer('trainRows', undefined, { min: 0, example: '100000' });
        const fraction = opt.number('trainFraction', undefined, { example: '0.8' });
        const result = await runSplit({
          input: opt.string('data', ['CHURNWATCH_DATA', 'CHURNWATCH_DATA_FILE']) ?? SPLIT_DEFAULTS.data,
          ...(trainRows !== undefined ? { trainRows } : {}),
          ...(fraction !== undefined ? { trainFraction: fraction } : {}),
          trainOut: opt.string('trainOutput') ?? SPLIT_DEFAULTS.trainOutput,
          holdoutOut: opt.string('holdoutOutput') ?? SPLIT_DEFAULTS.holdoutOutput,
          quiet: flags.quiet ?? false,
        });
        print(
          flags.json,
          result,
          `${result.trainOut}: ${result.trainRows} rows; ${result.holdoutOut}: ${result.holdoutRows} rows (of ${result.totalRows})`,
        );
      },
    );
  hiddenAlias(split, '--input <file>', 'data');
  hiddenAlias(split, '--train-out <file>', 'trainOutput');
  hiddenAlias(split, '--holdout-out <file>', 'holdoutOutput');
}
