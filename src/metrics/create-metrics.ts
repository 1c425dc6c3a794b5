/**
 * The API process's live metrics, registered on an explicit Registry with the names, types, labels
 * and buckets of catalogue.ts (the dashboards and rules are generated from the same catalogue).
 *
 * The hot path (one call per scored record) only increments typed arrays: bin lookups are precomputed
 * once per model, and the counts move into prom-client's counters in their collect() hooks, i.e. at
 * scrape time. Label values come from the reference profile, never from user input, so the series
 * count is bounded by (features x bins) per model version.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ChurnModel, ValidationMetrics } from '../model/churn-model.js';
import { type RecordBins, recordBinnerOf } from '../model/record-binner.js';
import { cbpeCalibrator } from '../stats/cbpe-calibration.js';
import type { DroppedPredictions, FeedbackOutcome, StoreStats } from '../store/prediction-store.js';
import { BucketedHistogram, type HistogramSlot } from './bucketed-histogram.js';
import { METRICS } from './catalogue.js';
import { registerDriftCalibrationGauges } from './drift-calibration-gauges.js';

/** What the recorder reads of a scored record besides its bins. */
export interface ScoredRecord {
  readonly score: number;
  readonly predictedClass: 0 | 1;
}

/** Records what one loaded model scores; create one per model with `ServerMetrics.useModel`. */
export interface ModelRecorder {
  readonly version: string;
  /**
   * Counts scored records: feature bins, score bin, class, expected confusion, histograms. `bins` are
   * the records' bins under this model's profile (record-binner.ts), computed once per request.
   */
  recordBatch(records: readonly ScoredRecord[], bins: RecordBins): void;
}

export interface ServerMetrics {
  readonly registry: Registry;
  /** Precomputes the bin lookups of a model and points the model gauges at it. */
  useModel(model: ChurnModel): ModelRecorder;
  observeHttp(method: string, route: string, statusCode: number, seconds: number): void;
  /**
   * Feedback outcomes. `received` = true for items of a POST /feedback (they count in
   * churnwatch_feedback_total); false for late joins found by joinPending (counted once, at receipt).
   */
  observeFeedback(outcomes: readonly FeedbackOutcome[], received: boolean): void;
  observeReload(result: 'success' | 'failure'): void;
  observeStoreFlush(seconds: number): void;
  observeStoreWriteError(): void;
  /** A request cut off with 408 by the server's request or headers timeout. */
  observeRequestTimeout(): void;
  /** Pending feedback items tried by a joinPending, and those dropped (cap, expiry). */
  observePendingUpkeep(tried: number, dropped: { cap: number; expired: number }): void;
  /** What a retention pass deleted. */
  observeRetention(dropped: DroppedPredictions): void;
  /** Sources read at scrape time for point-in-time gauges. */
  setSources(sources: MetricSources): void;
}

/** The pending feedback as the gauges show it: count, and the oldest item's age (0 when none). */
export interface PendingFeedbackGauges {
  readonly count: number;
  readonly oldestAgeSeconds: number;
}

export interface MetricSources {
  queueLength?: () => number;
  pendingFeedback?: () => Promise<PendingFeedbackGauges>;
  storeStats?: () => Promise<StoreStats>;
  /** The retention span in ms, undefined when predictions are kept forever. */
  retentionMs?: () => number | undefined;
}

export interface CreateMetricsOptions {
  registry?: Registry;
  /** prom-client's process metrics (CPU, memory, event loop); default true. */
  defaultMetrics?: boolean;
  /** The store backend for the `store` label. */
  storeKind: string;
}

const VALIDATION_LABELS: readonly [keyof ValidationMetrics, string][] = [
  ['rocAuc', 'roc_auc'],
  ['logLoss', 'log_loss'],
  ['brier', 'brier'],
  ['averagePrecision', 'average_precision'],
  ['accuracy', 'accuracy'],
  ['precision', 'precision'],
  ['recall', 'recall'],
  ['f1', 'f1'],
];

const NON_CONFORMING_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * Longest a scrape waits for a figure read from the store (the pending count, the store's size), ms;
 * they normally take well under 1.
 */
const STORE_WAIT_MS = 250;

/** Outcome order in the confusion arrays. */
const OUTCOMES = ['tp', 'fp', 'tn', 'fn'] as const;

interface CountSet {
  readonly labels: readonly Record<string, string>[];
  readonly totals: Float64Array;
  readonly flushed: Float64Array;
}

function countSet(labels: Record<string, string>[]): CountSet {
  return { labels, totals: new Float64Array(labels.length), flushed: new Float64Array(labels.length) };
}

/** Moves what was counted since the last scrape into a prom-client counter. */
function flushInto(counter: Counter<string>, set: CountSet): void {
  for (let i = 0; i < set.labels.length; i++) {
    const delta = set.totals[i]! - set.flushed[i]!;
    if (delta > 0) {
      counter.inc(set.labels[i]!, delta);
      set.flushed[i] = set.totals[i]!;
    }
  }
}

interface ModelState {
  readonly version: string;
  readonly featureBins: CountSet;
  readonly scoreBins: CountSet;
  readonly classes: CountSet;
  readonly expected: CountSet;
}

interface LabelledCount {
  readonly labels: Record<string, string>;
  pending: number;
}

/**
 * A figure read from the store, which may be slow or down: a scrape waits at most STORE_WAIT_MS for it
 * and otherwise exports the last one read (the read finishes in the background); undefined before the
 * first, or without a source.
 */
function latestOf<T>(source: () => (() => Promise<T>) | undefined): () => Promise<T | undefined> {
  let value: T | undefined;
  let refresh: Promise<void> | undefined;
  return async () => {
    const read = source();
    if (!read) return undefined;
    refresh ??= read()
      .then(
        (next) => {
          value = next;
        },
        // The store is down: keep the last value; /readyz reports the outage.
        () => undefined,
      )
      .finally(() => {
        refresh = undefined;
      });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      refresh,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, STORE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    return value;
  };
}

export function createMetrics(options: CreateMetricsOptions): ServerMetrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // prom-client exports these gauges with a `_total` suffix, which `promtool check metrics` rejects
    // (only counters end in _total); they add nothing the event-loop and memory metrics do not show.
    for (const name of NON_CONFORMING_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  const storeLabels = { store: options.storeKind };
  const states: ModelState[] = [];
  let sources: MetricSources = {};

  const counter = (
    spec: { name: string; help: string; labelNames: readonly string[] },
    collect?: (this: Counter<string>) => void,
  ) =>
    new Counter({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labelNames],
      registers: [registry],
      ...(collect ? { collect } : {}),
    });
  const gauge = (
    spec: { name: string; help: string; labelNames: readonly string[] },
    collect?: (this: Gauge<string>) => void | Promise<void>,
  ) =>
    new Gauge({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labelNames],
      registers: [registry],
      ...(collect ? { collect } : {}),
    });
  const histogram = (spec: {
    name: string;
    help: string;
    labelNames: readonly string[];
    buckets: readonly number[];
  }) =>
    new Histogram({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labelNames],
      buckets: [...spec.buckets],
      registers: [registry],
    });

  // HTTP: one Map lookup per request; flushed at scrape.
  const httpCounts = new Map<string, LabelledCount>();
  counter(METRICS.httpRequests, function () {
    for (const entry of httpCounts.values()) {
      if (entry.pending > 0) {
        this.inc(entry.labels, entry.pending);
        entry.pending = 0;
      }
    }
  });
  const httpDuration = new BucketedHistogram(METRICS.httpRequestDuration).registerOn(registry);
  const httpSlots = new Map<string, { count: LabelledCount; slot: HistogramSlot }>();

  const modelInfo = gauge(METRICS.modelInfo);
  const modelThreshold = gauge(METRICS.modelThreshold);
  const modelValidation = gauge(METRICS.modelValidation);
  const modelReloads = counter(METRICS.modelReloads);
  for (const result of ['success', 'failure']) modelReloads.inc({ result }, 0);

  const predictionsCounter = counter(METRICS.predictions, function () {
    for (const s of states) flushInto(this, s.classes);
  });
  const scoreHistogram = new BucketedHistogram(METRICS.predictionScore).registerOn(registry);
  const scoreValuesCounter = counter(METRICS.scoreValues, function () {
    for (const s of states) flushInto(this, s.scoreBins);
  });
  const scoreReference = gauge(METRICS.scoreReferenceShare);
  const expectedCounter = counter(METRICS.expectedConfusion, function () {
    for (const s of states) flushInto(this, s.expected);
  });
  const featureValuesCounter = counter(METRICS.featureValues, function () {
    for (const s of states) flushInto(this, s.featureBins);
  });
  const featureReference = gauge(METRICS.featureReferenceShare);

  const feedback = counter(METRICS.feedback);
  for (const actual of ['0', '1'])
    for (const status of ['joined', 'pending', 'duplicate', 'conflict'])
      feedback.inc({ actual_class: actual, status }, 0);
  const pendingNow = latestOf(() => sources.pendingFeedback);
  gauge(METRICS.feedbackPending, async function () {
    const value = await pendingNow();
    if (value) this.set(value.count);
  });
  gauge(METRICS.feedbackPendingOldestAge, async function () {
    const value = await pendingNow();
    if (value) this.set(value.oldestAgeSeconds);
  });
  const pendingDropped = counter(METRICS.feedbackPendingDropped);
  for (const reason of ['cap', 'expired']) pendingDropped.inc({ reason }, 0);
  const pendingRetries = counter(METRICS.feedbackPendingRetries);
  pendingRetries.inc(0);
  const labelDelay = histogram(METRICS.labelDelay);
  const realized = counter(METRICS.realizedConfusion);

  gauge(METRICS.storeQueueLength, function () {
    if (sources.queueLength) this.set(sources.queueLength());
  });
  const statsNow = latestOf(() => sources.storeStats);
  gauge(METRICS.storeSize, async function () {
    const value = await statsNow();
    if (value) this.set(storeLabels, value.sizeBytes);
  });
  gauge(METRICS.storeOldestPrediction, async function () {
    const value = await statsNow();
    // No prediction, no series: 0 would read as a prediction kept since 1970.
    this.reset();
    if (value?.oldestPredictionAt != null) this.set(storeLabels, value.oldestPredictionAt / 1000);
  });
  gauge(METRICS.storeRetention, function () {
    this.reset();
    const ms = sources.retentionMs?.();
    if (ms !== undefined) this.set(ms / 1000);
  });
  const retentionDeleted = counter(METRICS.storeRetentionDeleted);
  for (const kind of ['prediction', 'feedback']) retentionDeleted.inc({ ...storeLabels, kind }, 0);
  const flushDuration = histogram(METRICS.storeFlushDuration);
  const writeErrors = counter(METRICS.storeWriteErrors);
  writeErrors.inc(storeLabels, 0);
  const requestTimeouts = counter(METRICS.httpRequestTimeouts);
  const driftCalibration = registerDriftCalibrationGauges(registry);

  function useModel(model: ChurnModel): ModelRecorder {
    const version = model.info.version;
    const profile = model.profile;
    const mv = { model_version: version };

    // Model gauges describe the model served now: replace the previous model's series.
    modelInfo.reset();
    modelInfo.set({ model_version: version, trained_at: model.info.trainedAt }, 1);
    modelThreshold.reset();
    modelThreshold.set(mv, model.info.threshold);
    modelValidation.reset();
    for (const [key, metric] of VALIDATION_LABELS) {
      const value = model.info.validation[key];
      if (typeof value === 'number' && Number.isFinite(value)) modelValidation.set({ ...mv, metric }, value);
    }
    scoreReference.reset();
    featureReference.reset();
    driftCalibration.useModel(model);

    const existing = states.find((s) => s.version === version);
    // Feature order: the binner's (the schema's, restricted to what the profile bins).
    const binner = recordBinnerOf(profile);
    const featureLabels: Record<string, string>[] = [];
    const offsets = new Int32Array(binner.features.length);
    for (const [f, { name, profile: fp }] of binner.features.entries()) {
      offsets[f] = featureLabels.length;
      for (const [i, bin] of fp.labels.entries()) {
        featureLabels.push({ ...mv, feature: name, bin });
        featureReference.set({ ...mv, feature: name, bin }, fp.shares[i] ?? 0);
      }
    }
    const scoreBinning = profile.score;
    for (const [i, bin] of scoreBinning.labels.entries())
      scoreReference.set({ ...mv, bin }, scoreBinning.shares[i] ?? 0);

    const state: ModelState = existing ?? {
      version,
      featureBins: countSet(featureLabels),
      scoreBins: countSet(scoreBinning.labels.map((bin) => ({ ...mv, bin }))),
      classes: countSet([
        { ...mv, predicted_class: '0' },
        { ...mv, predicted_class: '1' },
      ]),
      expected: countSet(OUTCOMES.map((outcome) => ({ ...mv, outcome }))),
    };
    if (!existing) {
      states.push(state);
      // Export every bin from the start (value 0): rate() and PSI rules need the series to exist.
      const initial: [Counter<string>, CountSet][] = [
        [featureValuesCounter, state.featureBins],
        [scoreValuesCounter, state.scoreBins],
        [predictionsCounter, state.classes],
        [expectedCounter, state.expected],
      ];
      for (const [c, set] of initial) for (const labels of set.labels) c.inc(labels, 0);
      // Realized outcomes too, so increase() sees a label's first join as a step up from 0.
      for (const outcome of OUTCOMES) realized.inc({ ...mv, outcome }, 0);
    }
    const featureTotals = state.featureBins.totals;
    const scoreTotals = state.scoreBins.totals;
    const classTotals = state.classes.totals;
    const expected = state.expected.totals;
    const scoreSlot = scoreHistogram.slot(mv);
    const width = binner.features.length;
    // CBPE's probability of each score (the profile's isotonic map, O(log k)); undefined = the score itself.
    const calibrate = cbpeCalibrator(profile.cbpe);

    return {
      version,
      recordBatch(records, bins) {
        if (bins.binner !== binner) throw new Error(`bins of another profile given to model ${version}`);
        const featureBins = bins.features;
        for (let r = 0; r < records.length; r++) {
          const { score, predictedClass } = records[r]!;
          for (let f = 0; f < width; f++) featureTotals[offsets[f]! + featureBins[r * width + f]!]! += 1;
          scoreTotals[bins.score[r]!]! += 1;
          classTotals[predictedClass]! += 1;
          // CBPE: a calibrated p says how likely this prediction is right.
          const p = calibrate === undefined ? score : calibrate(score);
          if (predictedClass === 1) {
            expected[0]! += p;
            expected[1]! += 1 - p;
          } else {
            expected[3]! += p;
            expected[2]! += 1 - p;
          }
          scoreSlot.observe(score);
        }
      },
    };
  }

  return {
    registry,
    useModel,
    observeHttp(method, route, statusCode, seconds) {
      const key = `${method} ${route} ${statusCode}`;
      let entry = httpSlots.get(key);
      if (!entry) {
        const labels = { method, route, status_code: String(statusCode) };
        const count = { labels, pending: 0 };
        httpCounts.set(key, count);
        entry = { count, slot: httpDuration.slot(labels) };
        httpSlots.set(key, entry);
      }
      entry.count.pending += 1;
      entry.slot.observe(seconds);
    },
    observeFeedback(outcomes, received) {
      for (const o of outcomes) {
        if (received) feedback.inc({ actual_class: String(o.label), status: o.status });
        if (o.status !== 'joined' || !o.prediction) continue;
        const mv = { model_version: o.prediction.modelVersion };
        const predicted = o.prediction.predictedClass;
        const outcome = predicted === 1 ? (o.label === 1 ? 'tp' : 'fp') : o.label === 1 ? 'fn' : 'tn';
        realized.inc({ ...mv, outcome });
        if (o.labelDelayMs !== undefined) labelDelay.observe(mv, Math.max(0, o.labelDelayMs) / 1000);
      }
    },
    observeReload(result) {
      modelReloads.inc({ result });
    },
    observeStoreFlush(seconds) {
      flushDuration.observe(storeLabels, seconds);
    },
    observeStoreWriteError() {
      writeErrors.inc(storeLabels);
    },
    observeRequestTimeout() {
      requestTimeouts.inc();
    },
    observeRetention(dropped) {
      if (dropped.predictions > 0)
        retentionDeleted.inc({ ...storeLabels, kind: 'prediction' }, dropped.predictions);
      if (dropped.feedback > 0) retentionDeleted.inc({ ...storeLabels, kind: 'feedback' }, dropped.feedback);
    },
    observePendingUpkeep(tried, dropped) {
      if (tried > 0) pendingRetries.inc(tried);
      if (dropped.cap > 0) pendingDropped.inc({ reason: 'cap' }, dropped.cap);
      if (dropped.expired > 0) pendingDropped.inc({ reason: 'expired' }, dropped.expired);
    },
    setSources(next) {
      sources = { ...sources, ...next };
    },
  };
}
