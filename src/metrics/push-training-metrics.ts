/**
 * Pushes what a training run produced to the Pushgateway, under job=TRAINING_PUSH_JOB and the
 * grouping key model_version: the class distribution (class = the target's own labels), per-feature per-bin row counts (the same
 * {feature, bin} labels as the server's churnwatch_feature_values_total, taken from the reference
 * profile), the score bins, validation metrics, rows, duration and completion time. Every name comes
 * from catalogue.ts (source 'training'); a fresh Registry is used, never the global one.
 */
import { Gauge, Pushgateway, Registry } from 'prom-client';
import type { ValidationMetrics } from '../model/churn-model.js';
import type { ReferenceProfile } from '../model/reference-profile-types.js';
import { METRICS, TRAINING_PUSH_JOB } from './catalogue.js';

export interface TrainingPushInput {
  readonly version: string;
  readonly profile: ReferenceProfile;
  readonly validation: ValidationMetrics;
  readonly rows: { readonly train: number; readonly validation: number };
  readonly durationSeconds: number;
  readonly completedAt: Date;
  /** The target's labels, the values of the class label (default "1" and "0", Expresso's). */
  readonly classes?: { readonly positive: string; readonly negative: string };
}

/** Builds the registry that is pushed (exported so the exposition can be inspected without a gateway). */
export function trainingMetricsRegistry(input: TrainingPushInput): Registry {
  const registry = new Registry();
  const gauge = (spec: { name: string; help: string; labelNames: readonly string[] }) =>
    new Gauge({ name: spec.name, help: spec.help, labelNames: [...spec.labelNames], registers: [registry] });
  const model_version = input.version;
  const { profile, validation } = input;

  const classRows = gauge(METRICS.trainingClassRows);
  const classes = input.classes ?? { positive: '1', negative: '0' };
  classRows.set({ model_version, class: classes.negative }, profile.classBalance.negatives);
  classRows.set({ model_version, class: classes.positive }, profile.classBalance.positives);

  const featureValues = gauge(METRICS.trainingFeatureValues);
  for (const [feature, fp] of Object.entries(profile.features)) {
    fp.labels.forEach((bin, i) => {
      featureValues.set({ model_version, feature, bin }, Math.round((fp.shares[i] ?? 0) * fp.count));
    });
  }
  const scoreValues = gauge(METRICS.trainingScoreValues);
  profile.score.labels.forEach((bin, i) => {
    scoreValues.set({ model_version, bin }, Math.round((profile.score.shares[i] ?? 0) * profile.score.count));
  });

  const metric = gauge(METRICS.trainingValidation);
  const values: Record<string, number> = {
    roc_auc: validation.rocAuc,
    log_loss: validation.logLoss,
    brier: validation.brier,
    average_precision: validation.averagePrecision,
    accuracy: validation.accuracy,
    precision: validation.precision,
    recall: validation.recall,
    f1: validation.f1,
  };
  for (const [name, value] of Object.entries(values)) metric.set({ model_version, metric: name }, value);

  const rows = gauge(METRICS.trainingRows);
  rows.set({ model_version, part: 'train' }, input.rows.train);
  rows.set({ model_version, part: 'validation' }, input.rows.validation);
  gauge(METRICS.trainingDuration).set({ model_version }, input.durationSeconds);
  gauge(METRICS.trainingLastSuccess).set({ model_version }, input.completedAt.getTime() / 1000);
  return registry;
}

/**
 * PUTs the training metrics to `url` (replacing earlier pushes of the same model version).
 * Rejects on a network error, a timeout or an HTTP error status; the caller decides whether that fails training.
 */
export async function pushTrainingMetrics(
  url: string,
  input: TrainingPushInput,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const registry = trainingMetricsRegistry(input);
  const gateway = new Pushgateway(url, { timeout: options.timeoutMs ?? 5000 }, registry);
  await gateway.push({ jobName: TRAINING_PUSH_JOB, groupings: { model_version: input.version } });
}
