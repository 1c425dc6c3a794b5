/**
 * What the simulators know about the model they replay traffic for: its data set schema (which CSV
 * columns are the id, the target and the features, and the positive label), the features' importance and
 * their reference statistics, used to read the held-out CSV and to choose which features a scenario
 * shifts. Learnt from the artifact (`--model`), or else from the running server's GET /model.
 */
import { cliCommand } from '../cli-command.js';
import { type DatasetSchema, EXPRESSO_SCHEMA, validateDatasetSchema } from '../data/dataset-schema.js';
import type { FeatureKind } from '../data/feature-types.js';
import { ChurnwatchError } from '../errors.js';
import type { ReferenceProfile } from '../model/reference-profile-types.js';
import { DEFAULT_RETRY, getJson, type RetryOptions } from './api-client.js';

/** One feature's reference statistics, as far as the source tells them. */
export interface ReplayFeatureReference {
  readonly kind: FeatureKind;
  /** Distinct categories seen in training (categorical), or kept when only those are known. */
  readonly categories: number;
  readonly mean?: number;
  readonly std?: number;
}

export interface ReplayModel {
  readonly schema: DatasetSchema;
  /** Share of the model's gain per feature, when the source has it (the artifact's metadata). */
  readonly importance?: Readonly<Record<string, number>>;
  readonly reference: Readonly<Record<string, ReplayFeatureReference>>;
  /** Where this came from, for logs: the artifact's directory or the URL. */
  readonly source: string;
}

/** True when the schema is Expresso's: the same features, in order, and the same id and target. */
export function isExpressoSchema(schema: DatasetSchema): boolean {
  const e = EXPRESSO_SCHEMA;
  return (
    schema.id === e.id &&
    schema.target.column === e.target.column &&
    schema.features.length === e.features.length &&
    schema.features.every((f, i) => f.name === e.features[i]?.name && f.kind === e.features[i]?.kind)
  );
}

/** The reference statistics the scenarios use, from a reference profile. */
export function referenceFromProfile(profile: ReferenceProfile): Record<string, ReplayFeatureReference> {
  const out: Record<string, ReplayFeatureReference> = {};
  for (const [name, f] of Object.entries(profile.features)) {
    out[name] =
      f.kind === 'numeric'
        ? { kind: 'numeric', categories: 0, mean: f.mean, std: f.std }
        : { kind: 'categorical', categories: f.seen.length };
  }
  return out;
}

/** The replay model of an artifact directory (models/latest or models/<version>). */
export async function loadReplayModel(dir: string): Promise<ReplayModel> {
  // Loaded lazily: the model module is large and the Expresso default path never needs it.
  const { loadModelArtifact } = await import('../model/model-io.js');
  const { model, metadata } = await loadModelArtifact(dir);
  return {
    schema: model.schema,
    importance: metadata.featureImportance,
    reference: referenceFromProfile(model.profile),
    source: dir,
  };
}

interface ModelAnswer {
  dataset_schema?: unknown;
  schema?: unknown;
  feature_importance?: unknown;
  reference?: {
    features?: Record<
      string,
      { kind?: unknown; bins?: readonly unknown[]; mean?: unknown; std?: unknown } | undefined
    >;
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Bins of a categorical reference beside its categories: other, unseen, missing. */
const EXTRA_CATEGORICAL_BINS = 3;

function referenceFromAnswer(answer: ModelAnswer): Record<string, ReplayFeatureReference> {
  const out: Record<string, ReplayFeatureReference> = {};
  for (const [name, f] of Object.entries(answer.reference?.features ?? {})) {
    if (!f) continue;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const mean = num(f.mean);
    const std = num(f.std);
    out[name] =
      f.kind === 'numeric'
        ? {
            kind: 'numeric',
            categories: 0,
            ...(mean !== undefined ? { mean } : {}),
            ...(std !== undefined ? { std } : {}),
          }
        : {
            kind: 'categorical',
            categories: Math.max(0, (f.bins?.length ?? 0) - EXTRA_CATEGORICAL_BINS),
          };
  }
  return out;
}

/**
 * The data set schema a GET /model answer describes: a full schema object when the server gives one
 * (`dataset_schema`, or `schema` as an object); else its field list, when that is Expresso's.
 */
function schemaFromAnswer(answer: ModelAnswer, url: string): DatasetSchema | undefined {
  if (isObject(answer.dataset_schema)) return validateDatasetSchema(answer.dataset_schema, url);
  if (isObject(answer.schema)) return validateDatasetSchema(answer.schema, url);
  if (!Array.isArray(answer.schema)) return undefined;
  const names = answer.schema.map((f) => (isObject(f) ? f.name : undefined));
  const expresso = EXPRESSO_SCHEMA.features.map((f) => f.name);
  const same = names.length === expresso.length && names.every((n, i) => n === expresso[i]);
  return same ? EXPRESSO_SCHEMA : undefined;
}

/**
 * The replay model of the model a running server serves (GET /model). Throws CW_SIM_NO_SCHEMA when the
 * answer does not say which columns are the id and the target (a non-Expresso model on a server that
 * lists only its fields): then `--model` must name the artifact.
 */
export async function fetchReplayModel(
  url: string,
  options: { retry?: RetryOptions; signal?: AbortSignal } = {},
): Promise<ReplayModel> {
  const endpoint = `${url.replace(/\/+$/, '')}/model`;
  const answer = await getJson(endpoint, { retry: options.retry ?? DEFAULT_RETRY, ...options });
  const body = (isObject(answer.body) ? answer.body : {}) as ModelAnswer;
  const schema = answer.status < 400 ? schemaFromAnswer(body, endpoint) : undefined;
  if (!schema) {
    const why =
      answer.status >= 400
        ? `answered HTTP ${answer.status}`
        : 'lists the fields of a model that is not Expresso, but not its id and target columns';
    throw new ChurnwatchError(
      'CW_SIM_NO_SCHEMA',
      `${endpoint} ${why}: the simulator cannot tell how to read the CSV`,
      {
        hint: `pass the artifact the server runs, e.g. ${cliCommand('simulate predictions --model models/latest --data holdout.csv')}`,
      },
    );
  }
  const importance = isObject(body.feature_importance)
    ? (Object.fromEntries(
        Object.entries(body.feature_importance).filter(([, v]) => typeof v === 'number'),
      ) as Record<string, number>)
    : undefined;
  return {
    schema,
    ...(importance ? { importance } : {}),
    reference: referenceFromAnswer(body),
    source: endpoint,
  };
}
