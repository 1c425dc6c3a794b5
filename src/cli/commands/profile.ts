/**
 * `churnwatch profile`: a model-less artifact (models/<version>/ + models/latest) for a model that lives
 * elsewhere: a labelled reference CSV with that model's scores (and optionally its decisions) gives the
 * schema (inferred with train's flags; the score and prediction columns are no features), the reference
 * profile of the features and scores, the threshold, the validation metrics of those scores and
 * calibrated drift thresholds. `serve --model` on it runs as a pure monitor: POST /log takes the
 * predictions, /predict answers 409 (docs/your-model.md).
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { cliCommand } from '../../cli-command.js';
import { createOptionReader } from '../../config/option-values.js';
import type { DatasetSchema } from '../../data/dataset-schema.js';
import { fileSha256 } from '../../data/file-sha256.js';
import { resolveDatasetSchema } from '../../data/infer-schema.js';
import { profileExternalScores } from '../../model/external-profile.js';
import { type ProfileMetadata, saveProfileArtifact } from '../../model/model-io.js';
import { createCliLogger } from '../logger.js';
import { createProgress, withProgress } from '../progress.js';
import {
  addArtifactAction,
  addReferenceSplitOptions,
  driftWindowLine,
  type ReferenceSplitOptions,
  readReferenceSplitOptions,
  warnSmallDriftWindow,
} from '../reference-split-options.js';
import {
  addSchemaOptions,
  readLabelledTable,
  readSchemaOptions,
  type SchemaRequest,
} from '../schema-options.js';

export interface ProfileOptions extends SchemaRequest, ReferenceSplitOptions {
  /** The labelled reference CSV with the external model's scores. */
  readonly data: string;
  readonly score: string;
  readonly prediction?: string;
  readonly threshold?: number;
  readonly quiet: boolean;
  readonly logger?: Logger;
  readonly clock?: () => Date;
}

export interface ProfileResult {
  readonly version: string;
  readonly dir: string;
  readonly metadata: ProfileMetadata;
  readonly schema: DatasetSchema;
  /** The window the drift thresholds were calibrated for (smaller than asked when few rows are held out). */
  readonly driftWindowSize: number;
}

export async function runProfile(options: ProfileOptions): Promise<ProfileResult> {
  const logger = options.logger ?? createCliLogger('churnwatch-profile');
  const clock = options.clock ?? (() => new Date());
  const started = clock();
  const t0 = performance.now();
  const roles = [options.score, ...(options.prediction !== undefined ? [options.prediction] : [])];
  // The external model's outputs are columns of the reference, never features.
  const flags = options.schemaFlags ?? {};
  const inferred = await resolveDatasetSchema(options.data, {
    flags: {
      ...flags,
      ignore: [...(flags.ignore ?? []), ...roles.filter((c) => !flags.ignore?.includes(c))],
    },
    ...(options.schemaFile !== undefined ? { schemaFile: options.schemaFile } : {}),
  });
  for (const warning of inferred.warnings) logger.warn({ file: options.data }, warning);
  const schema: DatasetSchema = {
    ...inferred.schema,
    dropped: inferred.schema.dropped.filter((d) => !roles.includes(d.column)),
  };
  // Read with the score (and prediction) columns as numeric columns beside the features.
  const reading: DatasetSchema = {
    ...schema,
    features: [...schema.features, ...roles.map((name) => ({ name, kind: 'numeric' as const }))],
  };
  const { size } = await stat(options.data);
  const progress = createProgress('reading the reference', size, { enabled: !options.quiet, unit: 'bytes' });
  const [read, sha256] = await withProgress(progress, () =>
    Promise.all([
      readLabelledTable(options.data, reading, inferred, logger, {
        onProgress: (_rows, bytes) => progress.update(bytes),
      }),
      fileSha256(options.data),
    ]),
  );
  const { table } = read;
  logger.info({ reference: options.data, rows: table.rowCount, score: options.score }, 'profiling');
  const profiled = profileExternalScores(table, schema, {
    file: options.data,
    scoreColumn: options.score,
    ...(options.prediction !== undefined ? { predictionColumn: options.prediction } : {}),
    ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
    heldOutShare: options.heldOutShare,
    windowSize: options.windowSize,
    seed: options.seed,
  });
  const saved = await saveProfileArtifact(options.modelsDir, profiled, {
    schema,
    trainedAt: started,
    columns: { score: options.score, prediction: options.prediction ?? null },
    data: { file: options.data, sha256, rows: table.rowCount },
    durationSeconds: (performance.now() - t0) / 1000,
  });
  const driftWindowSize = profiled.profile.thresholds?.windowSize ?? 0;
  warnSmallDriftWindow(logger, profiled.rows.heldOut, options.windowSize, driftWindowSize);
  logger.info({ version: saved.version, dir: saved.dir }, 'profile written');
  return { version: saved.version, dir: saved.dir, metadata: saved.metadata, schema, driftWindowSize };
}

/** Flags, then CHURNWATCH_* variables, then defaults; checked and frozen. */
export function resolveProfileOptions(
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): ProfileOptions {
  const opt = createOptionReader(flags, env, {
    code: 'CW_MODEL_PROFILE_BAD_OPTION',
    hint: `see ${cliCommand('profile --help')}`,
  });
  const data = opt.string('data');
  if (!data) throw opt.error('no reference data given', 'pass --data with the labelled CSV and its scores');
  const schema = readSchemaOptions(opt);
  if (schema.schemaFlags?.target === undefined && schema.schemaFile === undefined)
    throw opt.error('no --target given', 'pass --target with the label column of the reference');
  const score = opt.string('score');
  if (!score)
    throw opt.error(
      'no --score column given',
      "pass --score with the column of the external model's probability of the positive class",
    );
  const prediction = opt.string('prediction');
  const threshold = opt.number('threshold', undefined, { min: 0, max: 1, example: '0.5' });
  return Object.freeze({
    data,
    score,
    ...(prediction !== undefined ? { prediction } : {}),
    ...(threshold !== undefined ? { threshold } : {}),
    ...schema,
    ...readReferenceSplitOptions(opt),
    quiet: flags.quiet === true,
  });
}

/** What `profile` prints. */
export function formatProfileResult(result: ProfileResult, windowSize: number): string {
  const m = result.metadata;
  const v = m.validation;
  const decisions =
    m.columns.prediction === null
      ? ''
      : `; ${m.predictionDisagreements} reference rows disagree with ${m.columns.prediction}`;
  return [
    `monitor-only artifact ${result.version} written to ${result.dir}`,
    `  reference ${m.data.file}: ${result.schema.features.length} features, scores ${m.columns.score}; ${m.rows.profile} rows profiled, ${m.rows.heldOut} held out`,
    `  threshold ${m.threshold.toFixed(4)} (${m.thresholdRule}${decisions})`,
    `  held-out ROC AUC ${v.rocAuc.toFixed(4)}, log loss ${v.logLoss.toFixed(4)}, F1 ${v.f1.toFixed(4)}`,
    driftWindowLine(result.driftWindowSize, windowSize),
    `  serve it with ${cliCommand(`serve --model ${result.dir}`)} and send predictions to POST /log`,
  ].join('\n');
}

export function registerProfileCommand(program: Command): void {
  const command = program
    .command('profile')
    .description(
      'Make a model-less artifact to monitor a model that lives elsewhere: a labelled reference CSV with its scores gives the schema, profile, threshold, metrics and drift thresholds; serve it and POST /log the predictions.',
    )
    .option('--data <file>', "labelled reference CSV with the external model's scores")
    .option('--score <column>', "the column of the external model's probability of the positive class")
    .option('--prediction <column>', 'the column of its 0/1 decision (default: score ≥ threshold)')
    .option(
      '--threshold <p>',
      'its decision threshold (default: the one that agrees with --prediction, else max F1 on the held-out reference)',
    );
  addArtifactAction(
    addSchemaOptions(addReferenceSplitOptions(command)),
    resolveProfileOptions,
    runProfile,
    formatProfileResult,
  );
}
