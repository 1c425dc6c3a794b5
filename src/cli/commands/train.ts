/**
 * `churnwatch train`: reads a labelled CSV by its schema (Expresso's for an Expresso file given without
 * schema flags; else inferred, with a schema file and the flags over it: docs/schema.md), trains the
 * GBDT on the schema's features, writes models/<version>/ (and models/latest) with the schema, then
 * pushes the training metrics to the Pushgateway when one is given.
 */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { cliCommand } from '../../cli-command.js';
import { createOptionReader } from '../../config/option-values.js';
import { type DatasetSchema, EXPRESSO_SCHEMA, serializeDatasetSchema } from '../../data/dataset-schema.js';
import { fileSha256 } from '../../data/file-sha256.js';
import { type InferredSchema, readCsvHeader, resolveDatasetSchema } from '../../data/infer-schema.js';
import { withKeptCategories } from '../../data/kept-categories.js';
import { createRng } from '../../data/rng.js';
import { formatInferredSchema } from '../../data/schema-summary.js';
import { ChurnwatchError } from '../../errors.js';
import { pushTrainingMetrics } from '../../metrics/push-training-metrics.js';
import { DEFAULT_GBDT_PARAMS, type GbdtParams, validateGbdtParams } from '../../model/gbdt.js';
import { type ModelMetadata, saveModelArtifact } from '../../model/model-io.js';
import type { ReferenceProfile } from '../../model/reference-profile-types.js';
import { trainChurnModel } from '../../model/train-churn-model.js';
import { calibrateDriftThresholds } from '../../monitor/threshold-calibration.js';
import { type CbpeCalibration, fitCbpeCalibration, formatCbpeChoice } from '../../stats/cbpe-calibration.js';
import { hiddenAlias } from '../hidden-alias.js';
import { createCliLogger } from '../logger.js';
import { createProgress, withProgress } from '../progress.js';
import { driftWindowLine, warnSmallDriftWindow } from '../reference-split-options.js';
import {
  addSchemaOptions,
  readLabelledTable,
  readSchemaOptions,
  type SchemaRequest,
  schemaRequested,
} from '../schema-options.js';

export interface TrainOptions extends SchemaRequest {
  readonly data: string;
  /** Use only the first N rows of the file. */
  readonly rows?: number;
  readonly modelsDir: string;
  readonly pushgatewayUrl?: string;
  readonly requirePush: boolean;
  readonly params: GbdtParams;
  readonly validationShare: number;
  /** Monitoring window size the drift thresholds are calibrated for. */
  readonly windowSize: number;
  readonly quiet: boolean;
  readonly logger?: Logger;
  readonly clock?: () => Date;
}

export interface TrainResult {
  readonly version: string;
  readonly dir: string;
  readonly metadata: ModelMetadata;
  readonly driftThresholds: boolean;
  /** Rows of the windows the thresholds were calibrated for (≤ --window-size); 0 when none. */
  readonly driftWindowSize: number;
  /** CBPE's calibration choice, fitted on the validation rows (stored in the profile). */
  readonly cbpe: CbpeCalibration;
  readonly push: { readonly url: string; readonly ok: boolean; readonly error?: string } | undefined;
}

/** Below this many validation rows, drift thresholds are not calibrated (a window this small says little). */
export const MIN_DRIFT_WINDOW_ROWS = 100;

export const TRAIN_DEFAULTS = Object.freeze({
  modelsDir: 'models',
  validationShare: 0.2,
  windowSize: 1000,
});

/** `churnwatch train --print-schema`: the schema training would use, inferred from the data and the overrides. */
export function runPrintSchema(
  options: Pick<TrainOptions, 'data' | 'schemaFlags' | 'schemaFile'>,
): Promise<InferredSchema> {
  return resolveDatasetSchema(options.data, {
    ...(options.schemaFlags ? { flags: options.schemaFlags } : {}),
    ...(options.schemaFile !== undefined ? { schemaFile: options.schemaFile } : {}),
  });
}

/** The columns of Expresso's Train.csv, with and without its label column. */
function isExpressoHeader(header: readonly string[]): boolean {
  // The id first, the features, the label last (an unlabelled file fails on its labels, as before).
  const unlabelled = [EXPRESSO_SCHEMA.id ?? '', ...EXPRESSO_SCHEMA.features.map((f) => f.name)];
  const same = (layout: readonly string[]) =>
    layout.length === header.length && layout.every((name, i) => header[i] === name);
  return same([...unlabelled, EXPRESSO_SCHEMA.target.column]) || same(unlabelled);
}

/**
 * The schema to train with: EXPRESSO_SCHEMA exactly for an Expresso file with no schema flag (no
 * inference pass over its 2M rows: same artifact and speed as before), else the resolved one.
 */
async function trainingSchema(
  options: TrainOptions,
): Promise<{ schema: DatasetSchema; inferred?: InferredSchema }> {
  if (!schemaRequested(options) && isExpressoHeader(await readCsvHeader(options.data)))
    return { schema: EXPRESSO_SCHEMA };
  const inferred = await runPrintSchema(options);
  return { schema: inferred.schema, inferred };
}

export async function runTrain(options: TrainOptions): Promise<TrainResult> {
  const logger = options.logger ?? createCliLogger('churnwatch-train');
  const clock = options.clock ?? (() => new Date());
  const started = clock();
  const t0 = performance.now();
  const { schema, inferred } = await trainingSchema(options);
  for (const warning of inferred?.warnings ?? []) logger.warn({ file: options.data }, warning);
  const [read, sha256] = await Promise.all([
    readLabelledTable(
      options.data,
      schema,
      inferred,
      logger,
      options.rows !== undefined ? { maxRows: options.rows } : {},
    ),
    fileSha256(options.data),
  ]);
  const { table } = read;
  logger.info({ file: options.data, rows: table.rowCount, params: options.params }, 'training');

  const progress = createProgress('training', options.params.trees, {
    enabled: !options.quiet,
    unit: 'trees',
  });
  const trained = await withProgress(progress, () =>
    trainChurnModel(table, {
      features: schema.features,
      targetColumn: schema.target.column,
      params: options.params,
      validationShare: options.validationShare,
      onRound: (round) => progress.update(round + 1),
    }),
  );

  let profile: ReferenceProfile = trained.profile;
  // A small table has fewer validation rows than the window asked for: calibrate for windows of all of
  // them (the monitor scales thresholds to its window's rows) rather than leave the model with none.
  const validationRows = trained.validationTable.rowCount;
  const driftWindowSize = Math.min(options.windowSize, validationRows);
  if (driftWindowSize >= MIN_DRIFT_WINDOW_ROWS) {
    const thresholds = calibrateDriftThresholds(profile, trained.validationTable, {
      windowSize: driftWindowSize,
      rng: createRng(options.params.seed, 5),
      scores: trained.validationScores,
    });
    profile = { ...profile, thresholds };
    warnSmallDriftWindow(logger, validationRows, options.windowSize, driftWindowSize, 'validation');
  } else {
    logger.warn(
      { validationRows, windowSize: options.windowSize },
      'too few validation rows to calibrate drift thresholds; the profile has none',
    );
  }
  // CBPE's calibration on the same held-out rows, so estimated performance is judged out of sample.
  const cbpe = fitCbpeCalibration(trained.validationScores, trained.validationTable.target!);
  profile = { ...profile, cbpe };
  const durationSeconds = (performance.now() - t0) / 1000;
  const saved = await saveModelArtifact(
    options.modelsDir,
    { ...trained, profile },
    {
      // An inferred schema names the categories the encoders keep; Expresso's stays as it is.
      schema: inferred
        ? withKeptCategories(
            schema,
            table,
            new Map(
              trained.parts.encoders.flatMap((e) =>
                e.kind === 'categorical' ? [[e.name, e.categories]] : [],
              ),
            ),
          )
        : schema,
      trainedAt: started,
      data: { file: options.data, sha256, rows: table.rowCount },
      params: options.params,
      durationSeconds,
    },
  );
  logger.info(
    {
      version: saved.version,
      dir: saved.dir,
      trees: trained.trees,
      rocAuc: trained.validation.rocAuc,
      durationSeconds,
    },
    'model written',
  );

  let push: TrainResult['push'];
  if (options.pushgatewayUrl) {
    try {
      await pushTrainingMetrics(options.pushgatewayUrl, {
        version: saved.version,
        profile,
        validation: trained.validation,
        rows: trained.rows,
        durationSeconds,
        completedAt: clock(),
        classes: { positive: schema.target.positive, negative: schema.target.negative },
      });
      push = { url: options.pushgatewayUrl, ok: true };
    } catch (error) {
      const message = (error as Error).message;
      push = { url: options.pushgatewayUrl, ok: false, error: message };
      logger.warn(
        { url: options.pushgatewayUrl, error: message },
        'could not push training metrics; the model is saved',
      );
      if (options.requirePush) {
        throw new ChurnwatchError(
          'CW_TRAIN_PUSH_FAILED',
          `model ${saved.version} was saved, but pushing its metrics to ${options.pushgatewayUrl} failed: ${message}`,
          { hint: 'start the Pushgateway (port 9091) or drop --require-push', cause: error },
        );
      }
    }
  } else if (options.requirePush) {
    throw new ChurnwatchError('CW_TRAIN_PUSH_FAILED', '--require-push was given without a Pushgateway URL', {
      hint: 'pass --pushgateway http://localhost:9091 or set CHURNWATCH_PUSHGATEWAY_URL',
    });
  }
  return {
    version: saved.version,
    dir: saved.dir,
    metadata: saved.metadata,
    driftThresholds: profile.thresholds !== undefined,
    driftWindowSize: profile.thresholds?.windowSize ?? 0,
    cbpe,
    push,
  };
}

/** Flags, then CHURNWATCH_* variables, then defaults; checked and frozen. */
export function resolveTrainOptions(
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): TrainOptions {
  const opt = createOptionReader(flags, env, {
    code: 'CW_TRAIN_BAD_OPTION',
    hint: `see ${cliCommand('train --help')}`,
  });
  const data = opt.string('data', 'CHURNWATCH_DATA');
  if (!data) throw opt.error('no training data given', 'pass --data data/train.csv (or set CHURNWATCH_DATA)');
  const d = DEFAULT_GBDT_PARAMS;
  const depth = opt.integer('depth', 'CHURNWATCH_DEPTH') ?? d.maxDepth;
  const params: GbdtParams = {
    trees: opt.integer('trees', 'CHURNWATCH_TREES') ?? d.trees,
    learningRate: opt.number('learningRate', 'CHURNWATCH_LEARNING_RATE') ?? d.learningRate,
    maxDepth: depth,
    maxLeaves: opt.integer('maxLeaves', 'CHURNWATCH_MAX_LEAVES') ?? 2 ** depth,
    minChildWeight: opt.number('minChildWeight', 'CHURNWATCH_MIN_CHILD_WEIGHT') ?? d.minChildWeight,
    lambda: opt.number('lambda', 'CHURNWATCH_LAMBDA') ?? d.lambda,
    minSplitGain: opt.number('minSplitGain', 'CHURNWATCH_MIN_SPLIT_GAIN') ?? d.minSplitGain,
    subsample: opt.number('subsample', 'CHURNWATCH_SUBSAMPLE') ?? d.subsample,
    colsample: opt.number('colsample', 'CHURNWATCH_COLSAMPLE') ?? d.colsample,
    earlyStoppingRounds: opt.integer('earlyStopping', 'CHURNWATCH_EARLY_STOPPING') ?? d.earlyStoppingRounds,
    maxBins: opt.integer('maxBins', 'CHURNWATCH_MAX_BINS') ?? d.maxBins,
    seed: opt.integer('seed', 'CHURNWATCH_SEED') ?? d.seed,
    threads: opt.integer('threads', 'CHURNWATCH_THREADS') ?? Math.min(2, availableParallelism()),
  };
  const rows = opt.integer('rows', 'CHURNWATCH_ROWS', { min: 1, example: '300000' });
  const pushgatewayUrl = opt.string('pushgateway', 'CHURNWATCH_PUSHGATEWAY_URL');
  const options: TrainOptions = {
    data,
    ...readSchemaOptions(opt),
    ...(rows !== undefined ? { rows } : {}),
    modelsDir: opt.string('models', 'CHURNWATCH_MODELS_DIR') ?? TRAIN_DEFAULTS.modelsDir,
    ...(pushgatewayUrl ? { pushgatewayUrl } : {}),
    requirePush: flags.requirePush === true || env.CHURNWATCH_REQUIRE_PUSH === 'true',
    params,
    validationShare:
      opt.number('validationShare', 'CHURNWATCH_VALIDATION_SHARE', {
        above: 0,
        below: 0.9,
        example: '0.2',
      }) ?? TRAIN_DEFAULTS.validationShare,
    windowSize: opt.integer('windowSize', 'CHURNWATCH_WINDOW_SIZE') ?? TRAIN_DEFAULTS.windowSize,
    quiet: flags.quiet === true,
  };
  try {
    // Range checks live with the trainer; report them as option errors here.
    validateGbdtParams(params);
  } catch (error) {
    throw opt.error(`invalid training parameter: ${(error as Error).message}`);
  }
  return Object.freeze(options);
}

export function registerTrainCommand(program: Command): void {
  const train = program.command('train');
  train
    .description('Train the churn model on a labelled CSV and write models/<version>/ (+ models/latest).')
    .option('--data <file>', 'labelled CSV: Expresso, or any with --target (env CHURNWATCH_DATA)')
    .option('--rows <n>', 'use only the first N rows (env CHURNWATCH_ROWS)')
    .option('--models <dir>', 'where artifacts go (env CHURNWATCH_MODELS_DIR, default models)')
    .option(
      '--pushgateway <url>',
      'push training metrics here, e.g. http://localhost:9091 (env CHURNWATCH_PUSHGATEWAY_URL)',
    )
    .option('--require-push', 'exit non-zero when the push fails (env CHURNWATCH_REQUIRE_PUSH=true)')
    .option('--trees <n>', `most boosting rounds (default ${DEFAULT_GBDT_PARAMS.trees})`)
    .option('--depth <n>', `maximum tree depth (default ${DEFAULT_GBDT_PARAMS.maxDepth})`)
    .option('--max-leaves <n>', 'maximum leaves per tree (default 2^depth)')
    .option('--learning-rate <x>', `shrinkage (default ${DEFAULT_GBDT_PARAMS.learningRate})`)
    .option(
      '--min-child-weight <x>',
      `minimum hessian per child (default ${DEFAULT_GBDT_PARAMS.minChildWeight})`,
    )
    .option('--lambda <x>', `L2 penalty on leaf weights (default ${DEFAULT_GBDT_PARAMS.lambda})`)
    .option('--min-split-gain <x>', `minimum gain to split (default ${DEFAULT_GBDT_PARAMS.minSplitGain})`)
    .option('--subsample <x>', `row share per tree (default ${DEFAULT_GBDT_PARAMS.subsample})`)
    .option('--colsample <x>', `feature share per tree (default ${DEFAULT_GBDT_PARAMS.colsample})`)
    .option(
      '--early-stopping <n>',
      `rounds without validation improvement before stopping, 0 = off (default ${DEFAULT_GBDT_PARAMS.earlyStoppingRounds})`,
    )
    .option(
      '--max-bins <n>',
      `histogram bins per feature incl. missing, ≤ 256 (default ${DEFAULT_GBDT_PARAMS.maxBins})`,
    )
    .option(
      '--validation-share <x>',
      `share held out for early stopping, calibration and metrics (default ${TRAIN_DEFAULTS.validationShare})`,
    )
    .option(
      '--window-size <n>',
      `monitoring window the drift thresholds are calibrated for (default ${TRAIN_DEFAULTS.windowSize})`,
    )
    .option(
      '--threads <n>',
      'threads building histograms; the model does not depend on it (env CHURNWATCH_THREADS, default min(2, cores))',
    )
    .option(
      '--seed <n>',
      `seed for the split and sampling (env CHURNWATCH_SEED, default ${DEFAULT_GBDT_PARAMS.seed})`,
    );
  addSchemaOptions(train)
    .option('--print-schema', 'print the schema inferred from --data and exit without training')
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'no progress bar')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const options = resolveTrainOptions(flags, process.env);
      if (flags.printSchema === true) {
        const inferred = await runPrintSchema(options);
        if (flags.json === true) {
          process.stdout.write(serializeDatasetSchema(inferred.schema));
          for (const warning of inferred.warnings) process.stderr.write(`warning: ${warning}\n`);
        } else process.stdout.write(formatInferredSchema(inferred));
        return;
      }
      const result = await runTrain(options);
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const v = result.metadata.validation;
      const lines = [
        `model ${result.version} written to ${result.dir}`,
        `  trees ${result.metadata.trees}, ${result.metadata.rows.train} training rows, ${result.metadata.rows.validation} validation rows, ${result.metadata.durationSeconds.toFixed(1)} s`,
        `  validation ROC AUC ${v.rocAuc.toFixed(4)}, log loss ${v.logLoss.toFixed(4)}, F1 ${v.f1.toFixed(4)} at threshold ${result.metadata.threshold.toFixed(4)}`,
        `  calibration: ${result.metadata.calibration.calibrator.method}, ECE ${result.metadata.calibration.ece.toFixed(4)}`,
        `  estimated performance (CBPE): ${formatCbpeChoice(result.cbpe, 'validation')}`,
        result.driftThresholds
          ? driftWindowLine(result.driftWindowSize, options.windowSize, 'validation')
          : '  drift thresholds: none (too few validation rows)',
      ];
      if (result.push)
        lines.push(
          `  push to ${result.push.url}: ${result.push.ok ? 'ok' : `failed (${result.push.error})`}`,
        );
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  hiddenAlias(train, '--input <file>', 'data');
}
