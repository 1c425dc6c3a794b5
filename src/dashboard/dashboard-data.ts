/**
 * The JSON behind the built-in dashboard: the panels of the Grafana "Churn model monitoring" dashboard,
 * computed in the service rather than in PromQL. Live figures come from one window analysis (the
 * in-process monitor's, or the newest window-size rows of the store when no monitor runs); history comes
 * from the stored log cut into chunks (monitor/chunks.ts). Alert states mirror the Prometheus alert rules
 * (deploy/prometheus/rules/churnwatch-alerts.yml) on the live window.
 */
import type { ChurnModel } from '../model/churn-model.js';
import type { FeatureProfile } from '../model/reference-profile-types.js';
import { ALERT_DEFINITIONS, DEFAULT_PSI_THRESHOLD } from '../monitor/alert-definitions.js';
import { AlertHold, type AlertStatus, evaluateWindowAlerts } from '../monitor/alert-evaluation.js';
import { analyzeChunks, type ChunkSeries, windowDataFromColumns } from '../monitor/chunks.js';
import { DEFAULT_DRIFT_POLICY } from '../monitor/drift-policy.js';
import { type AnalysisModel, analyzeWindow, type WindowAnalysis } from '../monitor/window-analysis.js';
import type { WindowData } from '../monitor/windows.js';
import { quantileSorted, sortedWithoutNaN } from '../stats/quantiles.js';
import type { FeedbackCounts, PredictionColumns } from '../store/prediction-store.js';

/** Time ranges the page offers, in ms. */
export const DASHBOARD_RANGES: Readonly<Record<string, number>> = Object.freeze({
  '5m': 5 * 60_000,
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 24 * 3_600_000,
});
/** The range that fits the data: the time since the served model's first stored prediction (`resolveRange`). */
export const AUTO_RANGE = 'auto';
export const DEFAULT_RANGE = AUTO_RANGE;
/** Every accepted `?range=`. */
export const RANGE_NAMES: readonly string[] = Object.freeze([AUTO_RANGE, ...Object.keys(DASHBOARD_RANGES)]);
/** The auto range's steps: a few minutes at least, the largest preset at most. */
const AUTO_STEPS_MS = [3, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 4320, 10_080].map(
  (minutes) => minutes * 60_000,
);
/** Chunks per range: enough points for a readable line, few enough to analyse in milliseconds. */
const CHUNKS_PER_RANGE = 30;

export interface ResolvedRange {
  /** The name asked for (`auto` or a preset; an unknown name resolves as `auto`). */
  readonly name: string;
  readonly ms: number;
  readonly chunkMs: number;
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * The time range of one answer. A preset is its duration; `auto` is the time since `firstPredictionAt`
 * (the served model's oldest stored prediction) plus a tenth, rounded up to the next step of
 * AUTO_STEPS_MS (3 minutes to 7 days). Chunks are ~1/30 of the range, whole seconds, at least 5 s.
 * @example resolveRange('auto', now, now - 130_000).ms === 180_000 // 2m10s of data → last 3 minutes, 6 s chunks
 */
export function resolveRange(
  name: string | undefined,
  now: number,
  firstPredictionAt: number | undefined,
): ResolvedRange {
  const preset = name === undefined ? undefined : DASHBOARD_RANGES[name];
  let ms = preset;
  if (ms === undefined) {
    const span = firstPredictionAt === undefined ? 0 : Math.max(0, now - firstPredictionAt) * 1.1;
    ms = AUTO_STEPS_MS.find((step) => step >= span) ?? AUTO_STEPS_MS[AUTO_STEPS_MS.length - 1]!;
  }
  return {
    name: preset === undefined ? AUTO_RANGE : name!,
    ms,
    chunkMs: chunkMsFor(ms),
    fromMs: now - ms,
    toMs: now,
  };
}

export interface Distribution {
  readonly labels: readonly string[];
  readonly reference: readonly number[];
  /** Shares in the live window; empty when the window is empty. */
  readonly current: readonly number[];
}

export interface FeatureRow {
  feature: string;
  kind: 'numeric' | 'categorical';
  method: string;
  score: number | null;
  threshold: number | null;
  pValue: number | null;
  psi: number | null;
  drifted: boolean | null;
  missingShare: number | null;
  referenceMissingShare: number;
  outOfRangeShare: number | null;
  unseenShare: number | null;
  issues: string[];
}

/** One alert of monitor/alert-definitions.ts on the live window: firing, pending (held for less than `for`), ok or no data. */
export type AlertState = AlertStatus;

export interface Performance {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number | null;
}

export interface DashboardData {
  generatedAt: number;
  range: { name: string; fromMs: number; toMs: number; chunkMs: number };
  /**
   * When labels are due: predictions older than `dueBefore` (now − the expected label delay) have had
   * the time to get theirs. Label coverage, realized metrics, actual churn rate and label delay are given
   * only for chunks that end before it (the others would read as a fall in coverage). `basis`: the configured delay, the p90 delay of the labels joined
   * so far, or none (no label joined yet: no chunk is due).
   */
  labels: {
    basis: 'configured' | 'observed p90' | 'none';
    dueAfterSeconds: number | null;
    dueBefore: number | null;
  };
  model: {
    version: string;
    trainedAt: string;
    threshold: number;
    thresholdRule: string;
    validation: Performance;
    trainingClasses: { negatives: number; positives: number; churnRate: number };
    referencePredictedChurnRate: number;
  };
  live: {
    source: 'monitor' | 'store';
    rows: number;
    labeled: number;
    labelCoverage: number;
    from: number | null;
    to: number | null;
    predictedClasses: { '0': number; '1': number };
    /** Realized performance, only from `realizedMinLabeled` labelled predictions on (the alert rule's minimum). */
    realized: Performance | null;
    /** ChurnwatchRealizedPerformanceLow's minLabeledRows (alert-definitions.ts). */
    realizedMinLabeled: number;
    estimated: Performance | null;
    labelDelay: { medianSeconds: number; p90Seconds: number } | null;
    datasetDrift: boolean | null;
    driftShare: number;
    features: FeatureRow[];
    score: FeatureRow | null;
  };
  distributions: Record<string, Distribution>;
  series: {
    /** Chunk starts, seconds since the epoch (uPlot's x unit). */
    t: number[];
    rows: number[];
    /** The chunk is still running (it ends after now): fewer rows than a full one. */
    partial: boolean[];
    /** Some of the chunk's predictions are not due for their labels yet: its label figures are null. */
    labelsPartial: boolean[];
    realized: Record<'accuracy' | 'precision' | 'recall' | 'f1', (number | null)[]>;
    estimated: Record<'accuracy' | 'precision' | 'recall' | 'f1', (number | null)[]>;
    predictedChurnRate: (number | null)[];
    actualChurnRate: (number | null)[];
    labelCoverage: (number | null)[];
    labelDelayMedianSeconds: (number | null)[];
    labelDelayP90Seconds: (number | null)[];
    /** Score and feature PSI: null for chunks below the policy's minWindowRows (no verdict, PSI biased up). */
    scorePsi: (number | null)[];
    /** The score's PSI threshold for the chunk's rows (the calibrated one scaled, drift-policy.ts thresholdsForRows). */
    scorePsiThreshold: (number | null)[];
    driftShare: (number | null)[];
    featurePsi: Record<string, (number | null)[]>;
    missing: Record<string, (number | null)[]>;
  };
  scoreThreshold: number;
  feedback: FeedbackCounts;
  alerts: AlertState[];
}

export interface DashboardInput {
  readonly model: ChurnModel;
  /** Columns of this model's predictions within the range, oldest first. */
  readonly columns: PredictionColumns;
  /** The live window and its analysis, when an in-process monitor runs. */
  readonly live?: { readonly data: WindowData; readonly analysis: WindowAnalysis } | undefined;
  readonly feedback: FeedbackCounts;
  /** A preset of DASHBOARD_RANGES or `auto` (the default). */
  readonly rangeName?: string | undefined;
  /** The served model's oldest stored prediction (ms), for the `auto` range. */
  readonly firstPredictionAt?: number | undefined;
  /** Labels are due this long after their prediction; default: the p90 delay of the labels joined so far. */
  readonly expectedLabelDelayMs?: number | undefined;
  readonly now: number;
  /** When a label last joined a prediction, when the caller knows (the monitor does); the range's rows are looked at too. */
  readonly lastLabelAt?: number | undefined;
  /** Keeps the alerts' pending time across calls (the routes keep one); default: a fresh one. */
  readonly alertHold?: AlertHold;
}

function finite(v: number | undefined | null): number | null {
  return v === undefined || v === null || !Number.isFinite(v) ? null : v;
}

function perf(
  p:
    | { accuracy: number; precision: number; recall: number; f1: number; rocAuc?: number | null }
    | undefined
    | null,
): Performance | null {
  if (!p) return null;
  return {
    accuracy: p.accuracy,
    precision: p.precision,
    recall: p.recall,
    f1: p.f1,
    rocAuc: finite(p.rocAuc),
  };
}

function shares(counts: ArrayLike<number>): number[] {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  return total === 0 ? [] : Array.from(counts, (c) => c / total);
}

function distribution(profile: FeatureProfile, counts: ArrayLike<number> | undefined): Distribution {
  return { labels: profile.labels, reference: profile.shares, current: counts ? shares(counts) : [] };
}

function chunkMsFor(rangeMs: number): number {
  // Whole seconds, at least 5 s, so chunks align on round times.
  return Math.max(5000, Math.round(rangeMs / CHUNKS_PER_RANGE / 1000) * 1000);
}

/** The newest `n` row indexes of the columns (they are oldest first). */
function newestRows(columns: PredictionColumns, n: number): Uint32Array {
  const count = Math.min(n, columns.rowCount);
  const rows = new Uint32Array(count);
  for (let k = 0; k < count; k++) rows[k] = columns.rowCount - count + k;
  return rows;
}

/** Builds the dashboard JSON. Cost O(rows · features) for the chunks plus one window analysis. */
export function buildDashboardData(input: DashboardInput): DashboardData {
  const { model, columns, now } = input;
  const range = resolveRange(input.rangeName, now, input.firstPredictionAt);
  const chunkMs = range.chunkMs;
  const analysisModel: AnalysisModel = {
    version: model.info.version,
    threshold: model.info.threshold,
    profile: model.profile,
  };
  const v = model.info.validation;

  // Live: the monitor's window, else the newest window-size rows of the store.
  let live = input.live;
  let source: 'monitor' | 'store' = 'monitor';
  if (!live) {
    source = 'store';
    const size = model.profile.thresholds?.windowSize ?? 1000;
    const data = windowDataFromColumns(analysisModel, columns, newestRows(columns, size));
    live = { data, analysis: analyzeWindow(analysisModel, data, DEFAULT_DRIFT_POLICY) };
  }
  const a = live.analysis;
  const d = live.data;
  let predictedChurn = 0;
  for (let i = 0; i < d.rows; i++) predictedChurn += d.predictedClass[i]!;

  const qualityOf = new Map(a.quality.map((q) => [q.feature, q]));
  const row = (r: WindowAnalysis['drift']['features'][number]): FeatureRow => {
    const q = qualityOf.get(r.feature);
    const outOfRange =
      q?.belowRangeShare !== undefined || q?.aboveRangeShare !== undefined
        ? (q.belowRangeShare ?? 0) + (q.aboveRangeShare ?? 0)
        : null;
    return {
      feature: r.feature,
      kind: r.kind,
      method: r.method,
      score: finite(r.scores[r.method]),
      threshold: finite(r.thresholds[r.method]),
      pValue: finite(r.pValues[r.method]),
      psi: finite(r.scores.psi),
      drifted: r.drifted,
      missingShare: q && q.rows > 0 ? q.missingShare : null,
      referenceMissingShare: q?.referenceMissingShare ?? 0,
      outOfRangeShare: q && q.rows > 0 ? outOfRange : null,
      unseenShare: q && q.rows > 0 ? (q.unseenShare ?? null) : null,
      issues: q?.issues ?? [],
    };
  };
  const features = a.drift.features.map(row);

  const distributions: Record<string, Distribution> = {
    score: distribution(model.profile.score, d.drift.score?.binCounts),
  };
  for (const [name, fp] of Object.entries(model.profile.features)) {
    distributions[name] = distribution(fp, d.drift.features[name]?.binCounts);
  }

  // History: chunks of the stored log (UTC-aligned periods), plus the churn rates per chunk; label
  // figures only for chunks due for their labels (ending before `labels.dueBefore`).
  const chunks: ChunkSeries = analyzeChunks(analysisModel, columns, {
    chunking: { periodMs: chunkMs },
    validation: { accuracy: v.accuracy, f1: v.f1 },
  });
  const labels = labelsDue(input, a);
  const dueBefore = labels.dueBefore ?? Number.NEGATIVE_INFINITY;
  const rates = new Map<number, { rows: number; predicted: number; labeled: number; churned: number }>();
  for (let i = 0; i < columns.rowCount; i++) {
    const from = Math.floor(columns.createdAt[i]! / chunkMs) * chunkMs;
    let r = rates.get(from);
    if (!r) {
      r = { rows: 0, predicted: 0, labeled: 0, churned: 0 };
      rates.set(from, r);
    }
    r.rows++;
    r.predicted += columns.predictedClass[i]!;
    const label = columns.label[i]!;
    if (label !== -1) {
      r.labeled++;
      r.churned += label;
    }
  }
  const minRows = DEFAULT_DRIFT_POLICY.minWindowRows;
  const metricKeys = ['accuracy', 'precision', 'recall', 'f1'] as const;
  const series: DashboardData['series'] = {
    t: [],
    rows: [],
    partial: [],
    labelsPartial: [],
    realized: { accuracy: [], precision: [], recall: [], f1: [] },
    estimated: { accuracy: [], precision: [], recall: [], f1: [] },
    predictedChurnRate: [],
    actualChurnRate: [],
    labelCoverage: [],
    labelDelayMedianSeconds: [],
    labelDelayP90Seconds: [],
    scorePsi: [],
    scorePsiThreshold: [],
    driftShare: [],
    featurePsi: Object.fromEntries(Object.keys(model.profile.features).map((f) => [f, []])),
    missing: Object.fromEntries(Object.keys(model.profile.features).map((f) => [f, []])),
  };
  for (const c of chunks.chunks) {
    series.t.push(c.from / 1000);
    series.rows.push(c.rows);
    series.partial.push(c.to > now);
    // Label figures only for chunks whose every prediction is due for its label.
    const due = c.to <= dueBefore;
    series.labelsPartial.push(!due);
    for (const k of metricKeys) {
      series.realized[k].push(due && c.realized ? finite(c.realized[k]) : null);
      series.estimated[k].push(c.estimated ? finite(c.estimated[k]) : null);
    }
    const r = rates.get(c.from);
    series.predictedChurnRate.push(r && r.rows > 0 ? r.predicted / r.rows : null);
    series.actualChurnRate.push(due && r && r.labeled > 0 ? r.churned / r.labeled : null);
    series.labelCoverage.push(due && c.rows > 0 ? c.labelCoverage : null);
    series.labelDelayMedianSeconds.push(due && c.labelDelay ? c.labelDelay.medianSeconds : null);
    series.labelDelayP90Seconds.push(due && c.labelDelay ? c.labelDelay.p90Seconds : null);
    const judged = c.rows >= minRows;
    series.scorePsi.push(judged ? finite(c.scoreDrift?.scores.psi) : null);
    series.scorePsiThreshold.push(judged ? finite(c.scoreDrift?.thresholds.psi) : null);
    series.driftShare.push(c.drift.some((x) => x.drifted !== null) ? c.driftShare : null);
    for (const f of Object.keys(series.featurePsi)) {
      series.featurePsi[f]!.push(judged ? finite(c.drift.find((x) => x.feature === f)?.scores.psi) : null);
      series.missing[f]!.push(c.rows > 0 ? finite(c.missing[f]) : null);
    }
  }

  const scoreThreshold = model.profile.thresholds?.byFeature.score?.psi ?? DEFAULT_PSI_THRESHOLD;
  const realizedMinLabeled = ALERT_DEFINITIONS.realizedPerformanceLow.params.minLabeledRows;
  const estimated = perf(a.estimated);
  const liveOut: DashboardData['live'] = {
    source,
    rows: a.rows,
    labeled: a.labeled,
    labelCoverage: a.labelCoverage,
    from: finite(a.from),
    to: finite(a.to),
    predictedClasses: { '0': d.rows - predictedChurn, '1': predictedChurn },
    realized: a.labeled >= realizedMinLabeled ? perf(a.realized) : null,
    realizedMinLabeled,
    estimated,
    labelDelay: a.labelDelay ?? null,
    datasetDrift: a.drift.datasetDrift,
    driftShare: a.drift.driftShare,
    features,
    score: a.drift.score ? row(a.drift.score) : null,
  };

  return {
    generatedAt: now,
    range: { name: range.name, fromMs: range.fromMs, toMs: range.toMs, chunkMs },
    labels,
    model: {
      version: model.info.version,
      trainedAt: model.info.trainedAt,
      threshold: model.info.threshold,
      thresholdRule: model.info.thresholdRule,
      validation: perf(v)!,
      trainingClasses: { ...model.profile.classBalance },
      referencePredictedChurnRate: model.profile.predictedChurnRate,
    },
    live: liveOut,
    distributions,
    series,
    scoreThreshold,
    feedback: input.feedback,
    alerts: (input.alertHold ?? new AlertHold()).update(
      evaluateWindowAlerts({ analysis: a, validation: v, lastLabelAt: lastLabelAt(input), now }),
      now,
    ),
  };
}

/** The newest label join known: the caller's, or the newest among the range's stored predictions. */
function lastLabelAt(input: DashboardInput): number | undefined {
  let last = input.lastLabelAt ?? Number.NEGATIVE_INFINITY;
  const observed = input.columns.labelObservedAt;
  for (let i = 0; i < input.columns.rowCount; i++) if (observed[i]! > last) last = observed[i]!;
  return Number.isFinite(last) ? last : undefined;
}

/**
 * When labels are due: the configured delay, else the p90 delay of the labels joined so far (over the
 * range's stored predictions, or the live window when it saw longer ones). No label yet: none is due.
 */
function labelsDue(input: DashboardInput, live: WindowAnalysis): DashboardData['labels'] {
  let delayMs = input.expectedLabelDelayMs;
  let basis: DashboardData['labels']['basis'] = 'configured';
  if (delayMs === undefined) {
    const { columns } = input;
    const delays: number[] = [];
    for (let i = 0; i < columns.rowCount; i++)
      if (columns.label[i] !== -1) delays.push(columns.labelObservedAt[i]! - columns.createdAt[i]!);
    const sorted = sortedWithoutNaN(delays);
    const stored = sorted.length > 0 ? quantileSorted(sorted, 0.9) : undefined;
    const window = live.labelDelay ? live.labelDelay.p90Seconds * 1000 : undefined;
    if (stored === undefined && window === undefined)
      return { basis: 'none', dueAfterSeconds: null, dueBefore: null };
    delayMs = Math.max(stored ?? 0, window ?? 0);
    basis = 'observed p90';
  }
  return { basis, dueAfterSeconds: delayMs / 1000, dueBefore: input.now - delayMs };
}
