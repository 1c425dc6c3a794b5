/**
 * `churnwatch import xgboost`: turns a booster saved by XGBoost (`Booster.save_model("model.json")`)
 * and a labelled reference CSV into a churnwatch artifact (models/<version>/ and models/latest) that
 * `serve`, `predict` and `monitor` load like a trained model. The reference is read by a schema inferred
 * with the flags of `train` (docs/schema.md), the booster's own feature types as hints beneath them;
 * the import itself (threshold, held-out metrics, profile, drift thresholds) is import-xgboost.ts's.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { cliCommand } from '../../cli-command.js';
import { createOptionReader } from '../../config/option-values.js';
import { fileSha256 } from '../../data/file-sha256.js';
import { readCsvHeader, resolveDatasetSchema } from '../../data/infer-schema.js';
import { ChurnwatchError } from '../../errors.js';
import { type ImportedModelMetadata, saveImportedArtifact } from '../../model/model-io.js';
import { importXgboostModel } from '../../model/xgboost/import-xgboost.js';
import { parseXgboostJsonText, readXgboostBooster } from '../../model/xgboost/xgboost-json.js';
import { type CbpeCalibration, formatCbpeChoice } from '../../stats/cbpe-calibration.js';
import { boosterKindHints, checkBoosterColumns, checkBoosterFeatures } from '../booster-columns.js';
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

export interface ImportXgboostOptions extends SchemaRequest, ReferenceSplitOptions {
  /** The booster file, JSON as `Booster.save_model` writes it. */
  readonly model: string;
  /** The labelled CSV the booster was trained or validated on. */
  readonly reference: string;
  readonly quiet: boolean;
  readonly logger?: Logger;
  readonly clock?: () => Date;
}

export interface ImportXgboostResult {
  readonly version: string;
  readonly dir: string;
  readonly metadata: ImportedModelMetadata;
  /** The window the drift thresholds were calibrated for (smaller than asked when few rows are held out). */
  readonly driftWindowSize: number;
  /** CBPE's choice for the booster's scores, made on the held-out rows. */
  readonly cbpe?: CbpeCalibration | undefined;
}

async function readBoosterText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ChurnwatchError(
      'CW_MODEL_NOT_FOUND',
      `${file}: cannot read the XGBoost model (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { hint: 'pass --model the JSON file Booster.save_model("model.json") wrote', cause: error },
    );
  }
}

export async function runImportXgboost(options: ImportXgboostOptions): Promise<ImportXgboostResult> {
  const logger = options.logger ?? createCliLogger('churnwatch-import');
  const clock = options.clock ?? (() => new Date());
  const started = clock();
  const t0 = performance.now();
  const file = options.model;
  const text = await readBoosterText(file);
  // Refusals (objective, damaged file) come before the reference is read.
  const booster = readXgboostBooster(parseXgboostJsonText(text, file), file);
  checkBoosterColumns(booster, file, options.reference, await readCsvHeader(options.reference));
  const kinds = boosterKindHints(booster, file);
  const inferred = await resolveDatasetSchema(options.reference, {
    ...(options.schemaFlags ? { flags: options.schemaFlags } : {}),
    ...(options.schemaFile !== undefined ? { schemaFile: options.schemaFile } : {}),
    kinds,
  });
  for (const warning of inferred.warnings) logger.warn({ file: options.reference }, warning);
  checkBoosterFeatures(booster, file, inferred, kinds);
  const { schema } = inferred;

  const { size } = await stat(options.reference);
  const progress = createProgress('reading the reference', size, { enabled: !options.quiet, unit: 'bytes' });
  const [read, sha256] = await withProgress(progress, () =>
    Promise.all([
      readLabelledTable(options.reference, schema, inferred, logger, {
        onProgress: (_rows, bytes) => progress.update(bytes),
      }),
      fileSha256(options.reference),
    ]),
  );
  const { table } = read;
  logger.info({ model: file, reference: options.reference, rows: table.rowCount }, 'importing');
  const imported = importXgboostModel(booster, file, table, schema, {
    heldOutShare: options.heldOutShare,
    windowSize: options.windowSize,
    seed: options.seed,
  });
  const durationSeconds = (performance.now() - t0) / 1000;
  const saved = await saveImportedArtifact(options.modelsDir, imported, {
    schema,
    trainedAt: started,
    booster: { file, text },
    data: { file: options.reference, sha256, rows: table.rowCount },
    durationSeconds,
  });
  const driftWindowSize = imported.profile.thresholds?.windowSize ?? 0;
  warnSmallDriftWindow(logger, imported.rows.heldOut, options.windowSize, driftWindowSize);
  logger.info(
    { version: saved.version, dir: saved.dir, rocAuc: imported.validation.rocAuc, durationSeconds },
    'model written',
  );
  return {
    version: saved.version,
    dir: saved.dir,
    metadata: saved.metadata,
    driftWindowSize,
    cbpe: imported.profile.cbpe,
  };
}

/** Flags, then CHURNWATCH_* variables, then defaults; checked and frozen. */
export function resolveImportXgboostOptions(
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): ImportXgboostOptions {
  const opt = createOptionReader(flags, env, {
    code: 'CW_MODEL_IMPORT_BAD_OPTION',
    hint: `see ${cliCommand('import xgboost --help')}`,
  });
  const model = opt.string('model');
  if (!model) throw opt.error('no XGBoost model given', 'pass --model model.json (Booster.save_model)');
  const reference = opt.string('reference');
  if (!reference)
    throw opt.error(
      'no reference data given',
      'pass --reference with the labelled CSV the booster was trained or validated on',
    );
  return Object.freeze({
    model,
    reference,
    ...readSchemaOptions(opt),
    ...readReferenceSplitOptions(opt),
    quiet: flags.quiet === true,
  });
}

/** What `train` prints, for an imported model. */
export function formatImportResult(result: ImportXgboostResult, windowSize: number): string {
  const m = result.metadata;
  const v = m.validation;
  const share = m.rows.heldOut / (m.rows.heldOut + m.rows.profile);
  return [
    `model ${result.version} imported to ${result.dir}`,
    `  xgboost ${m.booster.xgboostVersion} booster ${m.booster.file}: ${m.booster.trees} trees, ${m.booster.features} features`,
    `  reference ${m.data.file}: ${m.rows.profile} rows profiled, ${m.rows.heldOut} held out (${(share * 100).toFixed(0)} %), ${m.durationSeconds.toFixed(1)} s`,
    `  held-out ROC AUC ${v.rocAuc.toFixed(4)}, log loss ${v.logLoss.toFixed(4)}, F1 ${v.f1.toFixed(4)} at threshold ${m.threshold.toFixed(4)}`,
    driftWindowLine(result.driftWindowSize, windowSize),
    ...(result.cbpe ? [`  estimated performance (CBPE): ${formatCbpeChoice(result.cbpe, 'held-out')}`] : []),
  ].join('\n');
}

export function registerImportCommand(program: Command): void {
  const group = program
    .command('import')
    .description(
      'Import a model trained elsewhere as a churnwatch artifact (models/<version>/ + models/latest).',
    );
  const xgboost = group
    .command('xgboost')
    .description(
      'Import an XGBoost binary:logistic booster (JSON) with a labelled reference CSV: the booster scores as it is; the reference gives the threshold, metrics, profile and drift thresholds.',
    )
    .option('--model <file>', 'the booster, as Booster.save_model("model.json") writes it')
    .option(
      '--reference <file>',
      'labelled CSV the booster was trained or validated on, read like train --data',
    );
  addArtifactAction(
    addSchemaOptions(addReferenceSplitOptions(xgboost)),
    resolveImportXgboostOptions,
    runImportXgboost,
    formatImportResult,
  );
}
