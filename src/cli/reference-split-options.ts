/**
 * The options of the commands that make an artifact from a labelled reference for a model churnwatch
 * did not train (`import xgboost`, `profile`): where it goes, and how the reference is split for the
 * threshold, metrics and drift thresholds (src/model/scored-reference.ts). One set of flags, one reading.
 */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { OptionReader } from '../config/option-values.js';

export const REFERENCE_SPLIT_DEFAULTS = Object.freeze({
  modelsDir: 'models',
  heldOutShare: 0.25,
  windowSize: 1000,
  seed: 42,
});

export interface ReferenceSplitOptions {
  readonly modelsDir: string;
  /** Share of the reference held out for the threshold, the metrics and the drift thresholds' windows. */
  readonly heldOutShare: number;
  /** Monitoring window the drift thresholds are calibrated for (at most the held-out rows). */
  readonly windowSize: number;
  readonly seed: number;
}

/** Registers `--models`, `--held-out-share`, `--window-size` and `--seed` on `command`. */
export function addReferenceSplitOptions(command: Command): Command {
  const d = REFERENCE_SPLIT_DEFAULTS;
  return command
    .option('--models <dir>', 'where artifacts go (env CHURNWATCH_MODELS_DIR, default models)')
    .option(
      '--held-out-share <x>',
      `reference share held out for the threshold, metrics and drift thresholds (default ${d.heldOutShare})`,
    )
    .option(
      '--window-size <n>',
      `monitoring window the drift thresholds are calibrated for (env CHURNWATCH_WINDOW_SIZE, default ${d.windowSize})`,
    )
    .option('--seed <n>', `seed for the split and sampling (env CHURNWATCH_SEED, default ${d.seed})`);
}

/** The four options, flags then CHURNWATCH_* variables then defaults. */
export function readReferenceSplitOptions(opt: OptionReader): ReferenceSplitOptions {
  const d = REFERENCE_SPLIT_DEFAULTS;
  return {
    modelsDir: opt.string('models', 'CHURNWATCH_MODELS_DIR') ?? d.modelsDir,
    heldOutShare:
      opt.number('heldOutShare', undefined, { above: 0, below: 0.9, example: '0.25' }) ?? d.heldOutShare,
    windowSize:
      opt.integer('windowSize', 'CHURNWATCH_WINDOW_SIZE', { min: 10, example: '1000' }) ?? d.windowSize,
    seed: opt.integer('seed', 'CHURNWATCH_SEED') ?? d.seed,
  };
}

/** Warns when the held-out rows were too few for the window asked; the window calibrated is `got`. */
export function warnSmallDriftWindow(
  logger: Logger,
  heldOutRows: number,
  asked: number,
  got: number,
  rowsName = 'held-out',
): void {
  if (got < asked)
    logger.warn(
      { heldOutRows, windowSize: asked },
      `drift thresholds calibrated for windows of ${got} rows, all the ${rowsName} rows: too few for the window size asked`,
    );
}

/** The line the commands (train, import, profile) print about the drift thresholds. */
export function driftWindowLine(got: number, asked: number, rowsName = 'held-out'): string {
  return `  drift thresholds: calibrated for windows of ${got} rows${got < asked ? ` (all the ${rowsName} rows; --window-size ${asked} asked)` : ''}`;
}

type Flags = Record<string, string | boolean | undefined>;

/**
 * `--json` and `--quiet`, and the action: resolve the flags, make the artifact, print the result
 * (as JSON with --json, else `format`'s text).
 */
export function addArtifactAction<O extends ReferenceSplitOptions, R>(
  command: Command,
  resolve: (flags: Flags, env: NodeJS.ProcessEnv) => O,
  run: (options: O) => Promise<R>,
  format: (result: R, windowSize: number) => string,
): Command {
  return command
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'no progress bar')
    .action(async (flags: Flags) => {
      const options = resolve(flags, process.env);
      const result = await run(options);
      process.stdout.write(
        flags.json === true
          ? `${JSON.stringify(result, null, 2)}\n`
          : `${format(result, options.windowSize)}\n`,
      );
    });
}
