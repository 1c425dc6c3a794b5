/**
 * The model artifact: a directory `models/<version>/` holding
 *   model.json     encoders, flattened trees, calibrator, threshold
 *   profile.json   the reference profile (reference-profile-types.ts)
 *   schema.json    the data set's schema (dataset-schema.ts, docs/schema.md)
 *   metadata.json  version, training time, validation metrics, calibration, data sha256, rows, parameters, duration
 *   manifest.json  format version and the sha256 of each file above
 * It is written into a temporary directory and renamed into place, and `models/latest` (a symlink) is
 * replaced by renaming a new symlink over it, so a reader never sees half an artifact.
 * The version is `<UTC timestamp>-<first 8 hex of sha256(model.json + profile.json + schema.json)>`.
 * Artifacts written before schema.json existed were all trained on Expresso and load with its schema.
 * model.json is either `churnwatch-gbdt` (a model churnwatch trained), `xgboost-json` (an imported
 * XGBoost booster, src/model/xgboost/) or `monitor-only` (`churnwatch profile`: no model, the threshold
 * and score columns of one that lives elsewhere; monitor-only-model.ts); all load into a ChurnModel by
 * the same manifest rules.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { cliCommand } from '../cli-command.js';
import {
  type DatasetSchema,
  EXPRESSO_SCHEMA,
  serializeDatasetSchema,
  validateDatasetSchema,
} from '../data/dataset-schema.js';
import { ChurnwatchError } from '../errors.js';
import { cbpeCalibrationProblem } from '../stats/cbpe-calibration.js';
import type { PlattCalibrator } from './calibration.js';
import type { ChurnModel, ModelInfo, ValidationMetrics } from './churn-model.js';
import { type ForestJson, forestFromJson, forestToJson } from './compiled-forest.js';
import type { ExternalProfile } from './external-profile.js';
import type { FeatureEncoder } from './feature-encoder.js';
import type { GbdtParams } from './gbdt.js';
import { createGbdtChurnModel } from './gbdt-churn-model.js';
import { createMonitorOnlyModel, MONITOR_ONLY_FORMAT } from './monitor-only-model.js';
import type { ReferenceProfile } from './reference-profile-types.js';
import type { CalibrationReport, TrainedChurnModel } from './train-churn-model.js';
import type { ImportedXgboostModel } from './xgboost/import-xgboost.js';
import { createXgboostChurnModel } from './xgboost/xgboost-churn-model.js';
import { bindXgboostFeatures } from './xgboost/xgboost-features.js';
import { compileXgboostForest } from './xgboost/xgboost-forest.js';
import { boosterFeatureGain, parseXgboostJsonText, readXgboostBooster } from './xgboost/xgboost-json.js';

export const MODEL_FORMAT_VERSION = 1;
const ARTIFACT_FILES = ['model.json', 'profile.json', 'schema.json', 'metadata.json'] as const;
/** Files an artifact may lack when it was written by an earlier churnwatch (schema.json: Expresso). */
const OPTIONAL_FILES: ReadonlySet<string> = new Set(['schema.json']);

interface ModelDocument {
  readonly formatVersion: number;
  readonly format: 'churnwatch-gbdt';
  readonly encoders: FeatureEncoder[];
  readonly forest: ForestJson;
  readonly calibrator: PlattCalibrator;
  readonly threshold: number;
  readonly thresholdRule: string;
}

/** An imported XGBoost booster (saveImportedArtifact). */
interface XgboostModelDocument {
  readonly formatVersion: number;
  readonly format: 'xgboost-json';
  /** The schema feature of each booster feature, in booster order. */
  readonly features: string[];
  /** Each categorical feature's categories in xgboost's code order (docs/model.md). */
  readonly categories: Record<string, string[]>;
  readonly threshold: number;
  readonly thresholdRule: string;
  /** The text of the file Booster.save_model wrote, verbatim (it can be loaded back into xgboost). */
  readonly booster: string;
}

/** A model that lives elsewhere (saveProfileArtifact): only its threshold and where its scores were. */
interface MonitorOnlyDocument {
  readonly formatVersion: number;
  readonly format: typeof MONITOR_ONLY_FORMAT;
  readonly threshold: number;
  readonly thresholdRule: string;
  /** The reference's columns of the external model's score and (if given) decision. */
  readonly columns: { readonly score: string; readonly prediction: string | null };
}

type ModelFileDocument = ModelDocument | XgboostModelDocument | MonitorOnlyDocument;

/** What the metadata of every artifact holds, trained or imported. */
interface ArtifactMetadata {
  readonly formatVersion: number;
  readonly version: string;
  /** ISO 8601 UTC: when the model was trained (or imported). */
  readonly trainedAt: string;
  readonly threshold: number;
  readonly thresholdRule: string;
  readonly validation: ValidationMetrics;
  /** sha256 of the whole data file (training data, or the reference of an import); rows = the rows used. */
  readonly data: { readonly file: string; readonly sha256: string; readonly rows: number };
  readonly durationSeconds: number;
  /** Total split gain per feature name, normalised to sum to 1. */
  readonly featureImportance: Readonly<Record<string, number>>;
}

export interface ModelMetadata extends ArtifactMetadata {
  readonly calibration: CalibrationReport;
  readonly rows: { readonly train: number; readonly validation: number };
  readonly params: GbdtParams;
  readonly trees: number;
}

export interface SaveOptions {
  /** The schema the model was trained on (EXPRESSO_SCHEMA for the Expresso layout). */
  readonly schema: DatasetSchema;
  readonly trainedAt: Date;
  readonly data: ModelMetadata['data'];
  readonly params: GbdtParams;
  readonly durationSeconds: number;
}

/** An imported booster's metadata: validation metrics are on the held-out part of the reference. */
export interface ImportedModelMetadata extends ArtifactMetadata {
  readonly source: 'xgboost';
  readonly booster: {
    readonly file: string;
    readonly sha256: string;
    readonly xgboostVersion: string;
    readonly objective: string;
    readonly baseScore: number;
    readonly trees: number;
    readonly features: number;
  };
  readonly rows: { readonly profile: number; readonly heldOut: number };
}

/** A model-less artifact's metadata: validation metrics of the external scores on the held-out part. */
export interface ProfileMetadata extends ArtifactMetadata {
  readonly source: 'profile';
  readonly columns: MonitorOnlyDocument['columns'];
  readonly rows: { readonly profile: number; readonly heldOut: number };
  /** Reference rows whose decision disagrees with score ≥ threshold (with a prediction column). */
  readonly predictionDisagreements: number | null;
}

export interface ImportSaveOptions {
  /** The schema the reference was read with. */
  readonly schema: DatasetSchema;
  /** The import time. */
  readonly trainedAt: Date;
  /** The booster file: its path (as given) and text. */
  readonly booster: { readonly file: string; readonly text: string };
  readonly data: ImportedModelMetadata['data'];
  readonly durationSeconds: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function timestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** Writes the artifact under `modelsDir`, points `modelsDir/latest` at it and returns its version and path. */
export async function saveModelArtifact(
  modelsDir: string,
  trained: TrainedChurnModel,
  options: SaveOptions,
): Promise<{ version: string; dir: string; metadata: ModelMetadata }> {
  const model: ModelDocument = {
    formatVersion: MODEL_FORMAT_VERSION,
    format: 'churnwatch-gbdt',
    encoders: [...trained.parts.encoders],
    forest: forestToJson(trained.parts.forest),
    calibrator: trained.parts.calibrator,
    threshold: trained.threshold,
    thresholdRule: trained.thresholdRule,
  };
  return writeArtifact(modelsDir, model, trained.profile, options, (version) => ({
    formatVersion: MODEL_FORMAT_VERSION,
    version,
    trainedAt: options.trainedAt.toISOString(),
    threshold: trained.threshold,
    thresholdRule: trained.thresholdRule,
    validation: trained.validation,
    calibration: trained.calibration,
    data: options.data,
    rows: trained.rows,
    params: options.params,
    trees: trained.trees,
    durationSeconds: options.durationSeconds,
    featureImportance: trained.featureImportance,
  }));
}

/**
 * Writes an imported XGBoost model (import-xgboost.ts) as an artifact that loadModelArtifact loads like
 * a trained one: model.json holds the booster file's text verbatim, the schema feature of each booster
 * feature and each categorical feature's categories in code order.
 */
export async function saveImportedArtifact(
  modelsDir: string,
  imported: ImportedXgboostModel,
  options: ImportSaveOptions,
): Promise<{ version: string; dir: string; metadata: ImportedModelMetadata }> {
  const { binding } = imported;
  const model: XgboostModelDocument = {
    formatVersion: MODEL_FORMAT_VERSION,
    format: 'xgboost-json',
    features: [...binding.names],
    categories: Object.fromEntries(
      binding.names.flatMap((name, f) => {
        const categories = binding.categories[f];
        return categories ? [[name, [...categories]]] : [];
      }),
    ),
    threshold: imported.threshold,
    thresholdRule: imported.thresholdRule,
    booster: options.booster.text,
  };
  const booster = readXgboostBooster(
    parseXgboostJsonText(options.booster.text, options.booster.file),
    options.booster.file,
  );
  return writeArtifact(modelsDir, model, imported.profile, options, (version) => ({
    formatVersion: MODEL_FORMAT_VERSION,
    version,
    trainedAt: options.trainedAt.toISOString(),
    source: 'xgboost',
    threshold: imported.threshold,
    thresholdRule: imported.thresholdRule,
    validation: imported.validation,
    booster: {
      file: options.booster.file,
      sha256: sha256(options.booster.text),
      xgboostVersion: booster.xgboostVersion ?? 'unknown',
      objective: booster.objective,
      baseScore: booster.baseScore,
      trees: booster.trees.length,
      features: booster.numFeature,
    },
    data: options.data,
    rows: imported.rows,
    durationSeconds: options.durationSeconds,
    featureImportance: (() => {
      const gains = boosterFeatureGain(booster);
      // binding.names is in booster order: name f is booster feature f; schema features the booster
      // does not use have no gain.
      const byName = new Map(binding.names.map((name, f) => [name, gains[f] ?? 0]));
      return Object.fromEntries(options.schema.features.map((f) => [f.name, byName.get(f.name) ?? 0]));
    })(),
  }));
}

/**
 * Writes a model-less artifact (`churnwatch profile`, external-profile.ts): served, it monitors the
 * external model's predictions logged by POST /log and scores nothing.
 */
export async function saveProfileArtifact(
  modelsDir: string,
  profiled: ExternalProfile,
  options: {
    readonly schema: DatasetSchema;
    readonly trainedAt: Date;
    readonly columns: MonitorOnlyDocument['columns'];
    readonly data: ArtifactMetadata['data'];
    readonly durationSeconds: number;
  },
): Promise<{ version: string; dir: string; metadata: ProfileMetadata }> {
  const model: MonitorOnlyDocument = {
    formatVersion: MODEL_FORMAT_VERSION,
    format: MONITOR_ONLY_FORMAT,
    threshold: profiled.threshold,
    thresholdRule: profiled.thresholdRule,
    columns: options.columns,
  };
  return writeArtifact(modelsDir, model, profiled.profile, options, (version) => ({
    formatVersion: MODEL_FORMAT_VERSION,
    version,
    trainedAt: options.trainedAt.toISOString(),
    source: 'profile',
    threshold: profiled.threshold,
    thresholdRule: profiled.thresholdRule,
    validation: profiled.validation,
    columns: options.columns,
    data: options.data,
    rows: profiled.rows,
    predictionDisagreements: profiled.predictionDisagreements ?? null,
    durationSeconds: options.durationSeconds,
    // No model, no split gains: the simulators and /model read an empty importance.
    featureImportance: {},
  }));
}

/**
 * The writing every kind of model shares: texts, version, manifest, then the temporary directory
 * renamed into place and `latest` swapped (see the top of this file).
 */
async function writeArtifact<M extends { readonly version: string }>(
  modelsDir: string,
  model: ModelFileDocument,
  profile: ReferenceProfile,
  options: { readonly schema: DatasetSchema; readonly trainedAt: Date },
  metadataOf: (version: string) => M,
): Promise<{ version: string; dir: string; metadata: M }> {
  const modelText = `${JSON.stringify(model)}\n`;
  const profileText = `${JSON.stringify(profile)}\n`;
  const schemaText = serializeDatasetSchema(options.schema);
  const version = `${timestamp(options.trainedAt)}-${sha256(modelText + profileText + schemaText).slice(0, 8)}`;
  const metadata = metadataOf(version);
  const texts: Record<(typeof ARTIFACT_FILES)[number], string> = {
    'model.json': modelText,
    'profile.json': profileText,
    'schema.json': schemaText,
    'metadata.json': `${JSON.stringify(metadata, null, 2)}\n`,
  };
  const manifest = {
    formatVersion: MODEL_FORMAT_VERSION,
    version,
    files: Object.fromEntries(ARTIFACT_FILES.map((f) => [f, sha256(texts[f])])),
  };
  await mkdir(modelsDir, { recursive: true });
  const suffix = randomBytes(4).toString('hex');
  const tmp = join(modelsDir, `.tmp-${version}-${suffix}`);
  await mkdir(tmp);
  try {
    for (const f of ARTIFACT_FILES) await writeFile(join(tmp, f), texts[f]);
    await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const dir = join(modelsDir, version);
    await rename(tmp, dir);
    const link = join(modelsDir, `.latest-${suffix}`);
    await symlink(version, link);
    await rename(link, join(modelsDir, 'latest'));
    return { version, dir, metadata };
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

const damaged = (file: string, what: string, cause?: unknown) =>
  new ChurnwatchError('CW_MODEL_DAMAGED', `model artifact file ${file} ${what}`, {
    hint: `retrain with ${cliCommand('train --data data/train.csv')} or point --model at an intact models/<version> directory`,
    cause,
  });

async function readJson(dir: string, name: string): Promise<{ text: string; value: unknown }> {
  const path = join(dir, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ChurnwatchError('CW_MODEL_MISSING_FILE', `model artifact file ${path} is missing`, {
        hint: `the directory must come from ${cliCommand('train')}; retrain or pass another --model`,
      });
    }
    throw error;
  }
  try {
    return { text, value: JSON.parse(text) };
  } catch (error) {
    throw damaged(path, `is not valid JSON (${(error as Error).message})`, error);
  }
}

export interface LoadedArtifact {
  readonly dir: string;
  readonly model: ChurnModel;
  /** ImportedModelMetadata (source 'xgboost') for an imported booster, ProfileMetadata for `profile`'s. */
  readonly metadata: ModelMetadata | ImportedModelMetadata | ProfileMetadata;
}

/** Loads and checks an artifact directory (or the `latest` symlink). Throws ChurnwatchError naming the file at fault. */
export async function loadModelArtifact(dirOrLink: string): Promise<LoadedArtifact> {
  let dir: string;
  try {
    dir = await realpath(dirOrLink);
  } catch {
    throw new ChurnwatchError('CW_MODEL_NOT_FOUND', `no model at ${dirOrLink}`, {
      hint: `train one with ${cliCommand('train --data data/train.csv')} (it writes models/latest)`,
    });
  }
  const manifestPath = join(dir, 'manifest.json');
  const { value: manifest } = await readJson(dir, 'manifest.json');
  const m = manifest as { formatVersion?: unknown; files?: Record<string, unknown> };
  if (m.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new ChurnwatchError(
      'CW_MODEL_FORMAT_VERSION',
      `model artifact ${manifestPath} has format version ${String(m.formatVersion)}; this churnwatch reads version ${MODEL_FORMAT_VERSION}`,
      { hint: 'retrain the model with this version of churnwatch' },
    );
  }
  const texts: Record<string, unknown> = {};
  for (const name of ARTIFACT_FILES) {
    const expected = m.files?.[name];
    if (expected === undefined && OPTIONAL_FILES.has(name)) continue;
    const { text, value } = await readJson(dir, name);
    if (typeof expected !== 'string') throw damaged(manifestPath, `lists no checksum for ${name}`);
    if (sha256(text) !== expected)
      throw damaged(join(dir, name), 'does not match its sha256 in manifest.json');
    texts[name] = value;
  }
  const doc = texts['model.json'] as ModelFileDocument;
  const modelPath = join(dir, 'model.json');
  if (
    doc.formatVersion !== MODEL_FORMAT_VERSION ||
    (doc.format !== 'churnwatch-gbdt' && doc.format !== 'xgboost-json' && doc.format !== MONITOR_ONLY_FORMAT)
  ) {
    throw new ChurnwatchError(
      'CW_MODEL_FORMAT_VERSION',
      `model artifact ${modelPath} has format ${String(doc.format)} version ${String(doc.formatVersion)}`,
      { hint: 'retrain the model with this version of churnwatch' },
    );
  }
  const metadata = texts['metadata.json'] as LoadedArtifact['metadata'];
  const profile = texts['profile.json'] as ReferenceProfile;
  if (profile.formatVersion !== 1)
    throw damaged(join(dir, 'profile.json'), 'has an unknown profile format version');
  const cbpeProblem = profile.cbpe === undefined ? undefined : cbpeCalibrationProblem(profile.cbpe);
  if (cbpeProblem)
    throw damaged(join(dir, 'profile.json'), `has an unusable CBPE calibration: ${cbpeProblem}`);
  const schemaPath = join(dir, 'schema.json');
  const schema =
    texts['schema.json'] === undefined
      ? EXPRESSO_SCHEMA
      : validateDatasetSchema(texts['schema.json'], schemaPath);
  const info: ModelInfo = {
    version: metadata.version ?? basename(dir),
    trainedAt: metadata.trainedAt,
    threshold: doc.threshold,
    thresholdRule: doc.thresholdRule,
    validation: metadata.validation,
    ...(metadata.featureImportance ? { featureImportance: metadata.featureImportance } : {}),
  };
  if (doc.format === MONITOR_ONLY_FORMAT) {
    if (!(doc.threshold >= 0 && doc.threshold <= 1))
      throw damaged(modelPath, 'is not a valid monitor-only model (threshold must be in [0, 1])');
    return { dir, model: createMonitorOnlyModel(info, profile, schema), metadata };
  }
  const model =
    doc.format === 'xgboost-json'
      ? loadXgboostModel(doc, modelPath, info, profile, schema)
      : loadGbdtModel(doc, modelPath, schemaPath, info, profile, schema);
  return { dir, model, metadata };
}

function loadGbdtModel(
  doc: ModelDocument,
  modelPath: string,
  schemaPath: string,
  info: ModelInfo,
  profile: ReferenceProfile,
  schema: DatasetSchema,
): ChurnModel {
  let forest: ReturnType<typeof forestFromJson>;
  try {
    if (!Array.isArray(doc.encoders) || doc.encoders.length !== doc.forest.featureCount) {
      throw new TypeError('encoders do not match the forest feature count');
    }
    forest = forestFromJson(doc.forest);
  } catch (error) {
    throw damaged(modelPath, `is not a valid model (${(error as Error).message})`, error);
  }
  const featureNames = new Set(schema.features.map((f) => f.name));
  const unknown = doc.encoders.find((e) => !featureNames.has(e.name));
  if (unknown) throw damaged(modelPath, `uses feature ${unknown.name}, which ${schemaPath} does not list`);
  return createGbdtChurnModel(
    { encoders: doc.encoders, forest, calibrator: doc.calibrator },
    info,
    profile,
    schema,
  );
}

/** The booster is checked again as on import; a fault is reported as a damaged model.json. */
function loadXgboostModel(
  doc: XgboostModelDocument,
  modelPath: string,
  info: ModelInfo,
  profile: ReferenceProfile,
  schema: DatasetSchema,
): ChurnModel {
  try {
    if (typeof doc.booster !== 'string') throw new TypeError("booster must be the booster file's text");
    if (!Array.isArray(doc.features)) throw new TypeError('features must be an array of names');
    const file = `${modelPath} (booster)`;
    const booster = readXgboostBooster(parseXgboostJsonText(doc.booster, file), file);
    const binding = bindXgboostFeatures(
      booster,
      schema,
      file,
      (name) => doc.categories?.[name] ?? [],
      doc.features,
    );
    return createXgboostChurnModel(compileXgboostForest(booster), binding, info, profile, schema);
  } catch (error) {
    throw damaged(modelPath, `is not a valid imported XGBoost model (${(error as Error).message})`, error);
  }
}

/** Loads a model artifact (see loadModelArtifact). */
export async function loadModel(dir: string): Promise<ChurnModel> {
  return (await loadModelArtifact(dir)).model;
}
