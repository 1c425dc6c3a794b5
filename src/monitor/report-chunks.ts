/**
 * `churnwatch report` by chunks, as NannyML shows a model over time: the current file (and the reference,
 * chunked the same way) is cut into chunks by rows (`--chunk-size`), into K equal parts (`--chunks`) or
 * by time period (`--chunk-period`, needs a timestamp), and each chunk gets what the whole-file report
 * gives: drift per feature against the whole reference (the same statistics and thresholds, scaled to
 * the chunk's rows), data quality, the CBPE estimate from the score and realized performance where the
 * target is known, ŷ from the named prediction column as for the whole file. The reference chunks give each performance metric its normal band (mean ± 3 std over
 * the reference chunks, NannyML's default); a current chunk outside it raises an alert. The layout is in
 * docs/report.md ("Chunks").
 */
import type { ColumnarTable } from '../data/columnar-table.js';
import type { FeatureProfile } from '../model/reference-profile-types.js';
import { estimatePerformance } from '../stats/cbpe.js';
import type { ScoreCalibrator } from '../stats/cbpe-calibration.js';
import { classificationMetrics } from '../stats/classification.js';
import { type ChunkPerformance, type ChunkRange, chunkRanges } from './chunks.js';
import { evaluateDataQuality } from './data-quality.js';
import {
  DEFAULT_DRIFT_POLICY,
  type DriftPolicyOptions,
  evaluateDrift,
  windowFromTable,
} from './drift-policy.js';

/** How to cut the files: rows per chunk, a number of chunks, or a time period (with its text, e.g. `1w`). */
export type ReportChunking =
  | { readonly by: 'size'; readonly size: number }
  | { readonly by: 'count'; readonly count: number }
  | { readonly by: 'period'; readonly period: string; readonly periodMs: number };

/** One feature in one chunk: the deciding statistic and its threshold (a p-value test: p against α). */
export interface ChunkDriftCell {
  feature: string;
  method: string;
  /** The statistic, or the p-value for a p-value test; null when not computed. */
  value: number | null;
  threshold: number | null;
  /** `above`: drift when value > threshold; `below` (p-values): drift when value < threshold. */
  alarm: 'above' | 'below';
  drifted: boolean | null;
  /** Every statistic computed, with its threshold where it has one, and p-values (for charts across chunks). */
  scores: Record<string, number>;
  thresholds: Record<string, number>;
  pValues: Record<string, number>;
}

export interface ReportChunk {
  period: 'reference' | 'current';
  /** Position within its period, from 0. */
  index: number;
  /** A label for tables and charts: the period start (`2024-05-06`) or the row range (`rows 1–500`). */
  key: string;
  rows: number;
  /** Data rows of the chunk in its file, 1-based and inclusive (for period chunks: in time order). */
  firstRow: number;
  lastRow: number;
  /** ISO times: the period for period chunks, else the first and last row's time when there is a timestamp. */
  from?: string;
  to?: string;
  drift: ChunkDriftCell[];
  judged: number;
  drifted: number;
  driftShare: number;
  datasetDrift: boolean | null;
  /** Share of rows missing, per feature. */
  missing: Record<string, number>;
  /** Share of rows holding a category the reference never had, per categorical feature. */
  unseen: Record<string, number>;
  qualityIssues: string[];
  estimated: ChunkPerformance | null;
  realized: ChunkPerformance | null;
  /** Why this chunk needs attention; empty when it does not. */
  alerts: string[];
}

/** The band a performance metric is expected in, from the reference chunks (null: no bound). */
export interface MetricBand {
  lower: number | null;
  upper: number | null;
}

export const CHUNK_METRICS = ['rocAuc', 'accuracy', 'precision', 'recall', 'f1'] as const;
export type ChunkMetric = (typeof CHUNK_METRICS)[number];

export interface ChunkTable {
  by: ReportChunking['by'];
  size?: number;
  count?: number;
  period?: string;
  periodMs?: number;
  /** The timestamp column, when there is one. */
  timestamp?: string;
  /** `estimated.accuracy`, `realized.f1`, …: bands from the reference chunks (at least two of them). */
  thresholds: Record<string, MetricBand>;
  table: ReportChunk[];
}

/** What every chunk is judged with. */
export interface ChunkContext {
  readonly features: Readonly<Record<string, FeatureProfile>>;
  readonly policy: Readonly<DriftPolicyOptions>;
  readonly threshold: number;
  readonly chunking: ReportChunking;
  readonly timestamp?: string;
  /** CBPE's score calibration, fitted on the reference (report.ts); absent: scores as they are. */
  readonly calibrator?: ScoreCalibrator | undefined;
}

/**
 * One file's inputs: its table, target (0/1, NaN missing), score, the model's class ŷ (0/1, NaN
 * missing; without it ŷ is score ≥ threshold) and times (epoch ms) per row.
 */
export interface ChunkSource {
  readonly table: ColumnarTable;
  readonly y?: Float64Array | undefined;
  readonly score?: Float64Array | undefined;
  readonly predicted?: Float64Array | undefined;
  readonly times?: Float64Array | undefined;
}

/** Standard deviations from the reference chunks' mean that bound a metric (NannyML's default). */
const BAND_STDS = 3;

const WEEK_MS = 604_800_000;
/** 1970-01-05, the first Monday after the epoch. */
const MONDAY_MS = 4 * 86_400_000;

/** Row order and ranges of one file's chunks: time order for periods, file order otherwise. */
function cut(source: ChunkSource, chunking: ReportChunking): { order: Uint32Array; ranges: ChunkRange[] } {
  const n = source.table.rowCount;
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const times = source.times;
  const timeAt = (k: number) => (times ? times[order[k]!]! : Number.NaN);
  if (chunking.by === 'period') {
    if (!times) throw new TypeError('chunks by period need the times');
    order.sort((a, b) => times[a]! - times[b]! || a - b);
    // Weeks start on Monday (as ISO weeks and pandas' periods), not on the epoch's Thursday.
    const weekly = chunking.periodMs % WEEK_MS === 0;
    const ranges = chunkRanges(n, timeAt, { periodMs: chunking.periodMs, originMs: weekly ? MONDAY_MS : 0 });
    return { order, ranges };
  }
  if (chunking.by === 'size') return { order, ranges: chunkRanges(n, timeAt, { rows: chunking.size }) };
  const k = Math.min(chunking.count, n);
  const ranges = Array.from({ length: k }, (_, i) => {
    const start = Math.floor((i * n) / k);
    const end = Math.floor(((i + 1) * n) / k);
    return { start, end, from: timeAt(start), to: timeAt(end - 1) };
  });
  return { order, ranges };
}

function nullable(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : value;
}

function performanceOf(p: {
  rows: number;
  rocAuc: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}): ChunkPerformance {
  const { rows, accuracy, precision, recall, f1 } = p;
  return { rows, rocAuc: nullable(p.rocAuc), accuracy, precision, recall, f1 };
}

/**
 * Estimated (CBPE, score in [0, 1]) and realized (target and score) performance of some rows, ŷ from
 * the prediction column when the file has one (rows without a class left out), else the threshold.
 */
function chunkPerformance(
  source: ChunkSource,
  rows: Uint32Array,
  threshold: number,
  calibrator: ScoreCalibrator | undefined,
) {
  const { y, score, predicted } = source;
  let estimated: ChunkPerformance | null = null;
  let realized: ChunkPerformance | null = null;
  if (!score) return { estimated, realized };
  const scores: number[] = [];
  const classes: number[] = [];
  const labeled: number[] = [];
  const labeledClasses: number[] = [];
  const labels: number[] = [];
  for (const r of rows) {
    const s = score[r]!;
    const c = predicted ? predicted[r]! : 0;
    if (Number.isNaN(s) || Number.isNaN(c)) continue;
    scores.push(s);
    classes.push(c);
    const label = y ? y[r]! : Number.NaN;
    if (!Number.isNaN(label)) {
      labeled.push(s);
      labeledClasses.push(c);
      labels.push(label);
    }
  }
  if (scores.length > 0 && scores.every((s) => s >= 0 && s <= 1))
    estimated = performanceOf(estimatePerformance(scores, predicted ? classes : threshold, calibrator));
  if (labels.length > 0)
    realized = performanceOf(classificationMetrics(labels, labeled, predicted ? labeledClasses : threshold));
  return { estimated, realized };
}

function driftCell(f: ReturnType<typeof evaluateDrift>['features'][number], alpha: number): ChunkDriftCell {
  const pValue = f.thresholdSource === 'p-value';
  return {
    feature: f.feature,
    method: f.method,
    value: nullable(pValue ? f.pValues[f.method] : f.scores[f.method]),
    threshold: pValue ? alpha : nullable(f.thresholds[f.method]),
    alarm: pValue ? 'below' : 'above',
    drifted: f.drifted,
    scores: { ...f.scores },
    thresholds: { ...f.thresholds },
    pValues: { ...f.pValues },
  };
}

const DAY_MS = 86_400_000;

function chunkKey(ctx: ChunkContext, range: ChunkRange): string {
  if (ctx.chunking.by === 'period') {
    const iso = new Date(range.from).toISOString();
    return ctx.chunking.periodMs % DAY_MS === 0 ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' ');
  }
  return `rows ${range.start + 1}–${range.end}`;
}

function isoOrNothing(ms: number): string | undefined {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** Every chunk of one file. Cost: a window per chunk, O(rows · features) plus the per-chunk sorts. */
function analyzeFile(ctx: ChunkContext, source: ChunkSource, period: ReportChunk['period']): ReportChunk[] {
  const { order, ranges } = cut(source, ctx.chunking);
  const profile = { features: ctx.features };
  return ranges.map((range, index) => {
    const rows = order.subarray(range.start, range.end);
    const window = windowFromTable(profile, source.table, rows);
    const drift = evaluateDrift(profile, window, ctx.policy);
    const quality = evaluateDataQuality(ctx.features, window);
    const missing: Record<string, number> = {};
    const unseen: Record<string, number> = {};
    const qualityIssues: string[] = [];
    for (const q of quality) {
      missing[q.feature] = q.missingShare;
      if (q.unseenShare !== undefined) unseen[q.feature] = q.unseenShare;
      for (const issue of q.issues) qualityIssues.push(`${q.feature}: ${issue}`);
    }
    const from = isoOrNothing(range.from);
    const to = isoOrNothing(range.to);
    const firstRow = range.start + 1;
    const lastRow = range.end;
    return {
      period,
      index,
      key: chunkKey(ctx, range),
      rows: rows.length,
      firstRow,
      lastRow,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      drift: drift.features.map((f) => driftCell(f, ctx.policy.alpha)),
      judged: drift.judged,
      drifted: drift.drifted,
      driftShare: drift.driftShare,
      datasetDrift: drift.datasetDrift,
      missing,
      unseen,
      qualityIssues,
      ...chunkPerformance(source, rows, ctx.threshold, ctx.calibrator),
      alerts: [],
    };
  });
}

/** Mean ± 3 std (population) of a metric over the reference chunks, clipped to [0, 1]; needs two values. */
function band(values: readonly number[]): MetricBand | undefined {
  if (values.length < 2) return undefined;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  return { lower: Math.max(0, mean - BAND_STDS * std), upper: Math.min(1, mean + BAND_STDS * std) };
}

function performanceBands(reference: readonly ReportChunk[]): Record<string, MetricBand> {
  const bands: Record<string, MetricBand> = {};
  for (const kind of ['estimated', 'realized'] as const)
    for (const metric of CHUNK_METRICS) {
      const values = reference
        .map((c) => c[kind]?.[metric])
        .filter((v): v is number => typeof v === 'number');
      const b = band(values);
      if (b) bands[`${kind}.${metric}`] = b;
    }
  return bands;
}

function addAlerts(chunk: ReportChunk, thresholds: Record<string, MetricBand>): void {
  for (const d of chunk.drift)
    if (d.drifted)
      chunk.alerts.push(
        `drift ${d.feature}: ${d.method} ${d.value?.toPrecision(3)} ${d.alarm === 'above' ? '>' : '<'} ${d.threshold?.toPrecision(3)}`,
      );
  if (chunk.datasetDrift) chunk.alerts.push(`dataset drift: ${chunk.drifted} of ${chunk.judged} features`);
  if (chunk.qualityIssues.length > 0)
    chunk.alerts.push(`data quality: ${chunk.qualityIssues.length} issue(s)`);
  for (const [key, b] of Object.entries(thresholds)) {
    const [kind, metric] = key.split('.') as ['estimated' | 'realized', ChunkMetric];
    const v = chunk[kind]?.[metric];
    if (typeof v !== 'number') continue;
    if ((b.lower !== null && v < b.lower) || (b.upper !== null && v > b.upper))
      chunk.alerts.push(
        `${kind} ${metric} ${v.toFixed(3)} outside [${b.lower?.toFixed(3)}, ${b.upper?.toFixed(3)}]`,
      );
  }
}

/**
 * The chunk table: the reference's chunks, then the current file's, each analysed alone against the
 * whole reference. A reference without the timestamp column is one chunk when chunking by period.
 * KS p-values in chunks use the asymptotic distribution past the live monitor's size limit (as the
 * monitor's chunks do): the exact one costs O(chunk rows × reference rows) per feature and chunk.
 */
export function analyzeReportChunks(
  ctx: ChunkContext,
  reference: ChunkSource,
  current: ChunkSource,
): ChunkTable {
  const policy = {
    ...ctx.policy,
    ksExactMaxProduct: Math.min(ctx.policy.ksExactMaxProduct, DEFAULT_DRIFT_POLICY.ksExactMaxProduct),
  };
  const c = { ...ctx, policy };
  const referenceChunks =
    ctx.chunking.by === 'period' && !reference.times
      ? analyzeFile({ ...c, chunking: { by: 'count', count: 1 } }, reference, 'reference')
      : analyzeFile(c, reference, 'reference');
  const currentChunks = analyzeFile(c, current, 'current');
  const thresholds = performanceBands(referenceChunks);
  for (const chunk of [...referenceChunks, ...currentChunks]) addAlerts(chunk, thresholds);
  const k = ctx.chunking;
  return {
    by: k.by,
    ...(k.by === 'size'
      ? { size: k.size }
      : k.by === 'count'
        ? { count: k.count }
        : { period: k.period, periodMs: k.periodMs }),
    ...(ctx.timestamp ? { timestamp: ctx.timestamp } : {}),
    thresholds,
    table: [...referenceChunks, ...currentChunks],
  };
}
