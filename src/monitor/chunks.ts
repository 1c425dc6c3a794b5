/**
 * Chunked analysis of the stored prediction log: the rows (store.readColumns, oldest first) are cut into
 * chunks by time period (UTC-aligned: 1h chunks start on the hour) or by count, and each chunk gets the
 * same analysis as a live window (window-analysis.ts) plus alert flags. The result is a plain series
 * that the CLI prints and the built-in dashboard serves as JSON.
 */
import { MISSING_CODE, type NumericColumn } from '../data/columnar-table.js';
import { numericBinIndex } from '../model/reference-bins.js';
import type { NumericFeatureProfile } from '../model/reference-profile-types.js';
import type { PredictionColumns } from '../store/prediction-store.js';
import {
  categoricalWindow,
  DEFAULT_DRIFT_POLICY,
  type DriftPolicyOptions,
  type FeatureWindow,
} from './drift-policy.js';
import { type AnalysisModel, analyzeWindow, type WindowAnalysis } from './window-analysis.js';
import { DEFAULT_RAW_VALUE_ROWS, evenlySpaced, type WindowData } from './windows.js';

/** By period (aligned to multiples of it from `originMs`, default the epoch) or by count. */
export type Chunking = { readonly periodMs: number; readonly originMs?: number } | { readonly rows: number };

export interface ChunkOptions {
  readonly chunking: Chunking;
  readonly policy?: Readonly<DriftPolicyOptions>;
  /** Raw values per numeric feature kept for KS/Wasserstein per chunk (see windows.ts). */
  readonly rawValueRows?: number;
  /** Validation metrics of the model: a chunk's accuracy or F1 this far below them raises an alert. */
  readonly validation?: { readonly accuracy: number; readonly f1: number };
  /** Absolute drop below validation that raises a performance alert (default 0.1, as the Prometheus rules). */
  readonly performanceMargin?: number;
}

export interface ChunkDrift {
  feature: string;
  method: string;
  score: number | null;
  threshold: number | null;
  drifted: boolean | null;
  scores: Record<string, number>;
  pValues: Record<string, number>;
  /** Thresholds per statistic, for the chunk's rows (drift-policy.ts thresholdsForRows). */
  thresholds: Record<string, number>;
}

export interface ChunkPerformance {
  rows: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number | null;
  logLoss?: number;
  brier?: number;
}

export interface ChunkResult {
  index: number;
  /** Chunk bounds in ms: the period for time chunks, first and last createdAt for count chunks. */
  from: number;
  to: number;
  rows: number;
  labeled: number;
  labelCoverage: number;
  labelDelay: { medianSeconds: number; p90Seconds: number } | null;
  drift: ChunkDrift[];
  scoreDrift: ChunkDrift | null;
  driftShare: number;
  datasetDrift: boolean | null;
  missing: Record<string, number>;
  qualityIssues: string[];
  estimated: ChunkPerformance | null;
  realized: ChunkPerformance | null;
  /** Why this chunk needs attention: drifted features, dataset drift, quality, performance. Empty when fine. */
  alerts: string[];
}

export interface ChunkSeries {
  modelVersion: string;
  threshold: number;
  chunking: { periodMs?: number; rows?: number };
  rows: number;
  chunks: ChunkResult[];
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds from a duration such as `30s`, `15m`, `1h`, `1d`, `1w`; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  return ms > 0 && Number.isFinite(ms) ? ms : undefined;
}

function numericWindowOf(
  profile: NumericFeatureProfile,
  column: NumericColumn,
  rows: Uint32Array,
  rawValueRows: number,
): FeatureWindow {
  const counts = new Float64Array(profile.labels.length);
  const source = column.values;
  for (let k = 0; k < rows.length; k++) counts[numericBinIndex(profile, source[rows[k]!]!)]! += 1;
  const sample = evenlySpaced(rows.length, rawValueRows);
  const values = new Float64Array(sample.count);
  for (let k = 0; k < sample.count; k++) values[k] = source[rows[sample.at(k)]!]!;
  return { binCounts: counts, values };
}

/** The WindowData of some rows of a column read (row indexes ascending). O(rows · features). */
export function windowDataFromColumns(
  model: AnalysisModel,
  columns: PredictionColumns,
  rows: Uint32Array,
  rawValueRows = DEFAULT_RAW_VALUE_ROWS,
): WindowData {
  const n = rows.length;
  const features: Record<string, FeatureWindow> = {};
  for (const [name, fp] of Object.entries(model.profile.features)) {
    const column = columns.features.columns.get(name);
    if (!column) continue;
    if (fp.kind === 'numeric') {
      if (column.kind !== 'numeric') throw new TypeError(`stored column ${name} is not numeric`);
      features[name] = numericWindowOf(fp, column, rows, rawValueRows);
    } else {
      if (column.kind !== 'categorical') throw new TypeError(`stored column ${name} is not categorical`);
      features[name] = categoricalWindow(fp, column, rows);
    }
  }
  const scoreColumn: NumericColumn = { kind: 'numeric', name: 'score', values: columns.score };
  const score = new Float64Array(n);
  const predictedClass = new Uint8Array(n);
  const label = new Int8Array(n);
  const labelDelayMs = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const r = rows[k]!;
    score[k] = columns.score[r]!;
    predictedClass[k] = columns.predictedClass[r]!;
    label[k] = columns.label[r]!;
    labelDelayMs[k] = columns.labelObservedAt[r]! - columns.createdAt[r]!;
  }
  return {
    modelVersion: model.version,
    rows: n,
    from: n === 0 ? Number.NaN : columns.createdAt[rows[0]!]!,
    to: n === 0 ? Number.NaN : columns.createdAt[rows[n - 1]!]!,
    score,
    predictedClass,
    label,
    labelDelayMs,
    drift: {
      rows: n,
      features,
      score: numericWindowOf(model.profile.score, scoreColumn, rows, rawValueRows),
    },
  };
}

function nullable(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : value;
}

function chunkDrift(r: NonNullable<WindowAnalysis['drift']['score']>): ChunkDrift {
  return {
    feature: r.feature,
    method: r.method,
    score: nullable(r.scores[r.method]),
    threshold: nullable(r.thresholds[r.method]),
    drifted: r.drifted,
    scores: { ...r.scores } as Record<string, number>,
    pValues: { ...r.pValues } as Record<string, number>,
    thresholds: { ...r.thresholds } as Record<string, number>,
  };
}

function toChunk(
  index: number,
  from: number,
  to: number,
  a: WindowAnalysis,
  options: ChunkOptions,
): ChunkResult {
  const alerts: string[] = [];
  const drift = a.drift.features.map(chunkDrift);
  for (const d of drift) {
    if (d.drifted)
      alerts.push(
        `drift ${d.feature}: ${d.method} ${d.score?.toPrecision(3)} > ${d.threshold?.toPrecision(3) ?? 'p-value test'}`,
      );
  }
  const scoreDrift = a.drift.score ? chunkDrift(a.drift.score) : null;
  if (scoreDrift?.drifted)
    alerts.push(`prediction drift: ${scoreDrift.method} ${scoreDrift.score?.toPrecision(3)}`);
  if (a.drift.datasetDrift)
    alerts.push(`dataset drift: ${(100 * a.drift.driftShare).toFixed(0)} % of features drifted`);
  const qualityIssues: string[] = [];
  const missing: Record<string, number> = {};
  for (const q of a.quality) {
    missing[q.feature] = q.missingShare;
    for (const issue of q.issues) qualityIssues.push(`${q.feature}: ${issue}`);
  }
  if (qualityIssues.length > 0) alerts.push(`data quality: ${qualityIssues.length} issue(s)`);
  const estimated: ChunkPerformance | null = a.estimated
    ? {
        rows: a.estimated.rows,
        accuracy: a.estimated.accuracy,
        precision: a.estimated.precision,
        recall: a.estimated.recall,
        f1: a.estimated.f1,
        rocAuc: nullable(a.estimated.rocAuc),
      }
    : null;
  const realized: ChunkPerformance | null = a.realized
    ? {
        rows: a.realized.rows,
        accuracy: a.realized.accuracy,
        precision: a.realized.precision,
        recall: a.realized.recall,
        f1: a.realized.f1,
        rocAuc: nullable(a.realized.rocAuc),
        logLoss: a.realized.logLoss,
        brier: a.realized.brier,
      }
    : null;
  const v = options.validation;
  const margin = options.performanceMargin ?? 0.1;
  if (v) {
    for (const [kind, p] of [
      ['estimated', estimated],
      ['realized', realized],
    ] as const) {
      if (!p) continue;
      if (p.accuracy < v.accuracy - margin)
        alerts.push(`${kind} accuracy ${p.accuracy.toFixed(3)} below validation ${v.accuracy.toFixed(3)}`);
      if (p.f1 < v.f1 - margin)
        alerts.push(`${kind} F1 ${p.f1.toFixed(3)} below validation ${v.f1.toFixed(3)}`);
    }
  }
  return {
    index,
    from,
    to,
    rows: a.rows,
    labeled: a.labeled,
    labelCoverage: a.labelCoverage,
    labelDelay: a.labelDelay ?? null,
    drift,
    scoreDrift,
    driftShare: a.drift.driftShare,
    datasetDrift: a.drift.datasetDrift,
    missing,
    qualityIssues,
    estimated,
    realized,
    alerts,
  };
}

/** Items [start, end) of one chunk, with its bounds: the period, or the first and last item's time. */
export interface ChunkRange {
  start: number;
  end: number;
  from: number;
  to: number;
}

/**
 * Cuts `n` items in time order (`timeAt(k)`, ascending) into chunks of `rows` items (the last one may be
 * smaller) or into UTC-aligned periods (a 1h chunk starts on the hour; periods holding no item are
 * left out). Shared by the monitor's chunks of the stored log and `churnwatch report`'s chunks. O(n).
 */
export function chunkRanges(n: number, timeAt: (k: number) => number, chunking: Chunking): ChunkRange[] {
  const ranges: ChunkRange[] = [];
  if ('rows' in chunking) {
    for (let start = 0; start < n; start += chunking.rows) {
      const end = Math.min(n, start + chunking.rows);
      ranges.push({ start, end, from: timeAt(start), to: timeAt(end - 1) });
    }
    return ranges;
  }
  let start = 0;
  while (start < n) {
    const origin = chunking.originMs ?? 0;
    const from = origin + Math.floor((timeAt(start) - origin) / chunking.periodMs) * chunking.periodMs;
    const to = from + chunking.periodMs;
    let end = start;
    while (end < n && timeAt(end) < to) end++;
    ranges.push({ start, end, from, to });
    start = end;
  }
  return ranges;
}

/**
 * Cuts the rows of `model.version` into chunks and analyses each. Rows of other model versions are
 * skipped. Cost O(rows · features) plus the per-chunk sorts. Throws RangeError on a bad chunking.
 */
export function analyzeChunks(
  model: AnalysisModel,
  columns: PredictionColumns,
  options: ChunkOptions,
): ChunkSeries {
  const c = options.chunking;
  if ('periodMs' in c && !(c.periodMs > 0 && Number.isFinite(c.periodMs)))
    throw new RangeError(`chunk period must be a positive number of ms, got ${c.periodMs}`);
  if ('rows' in c && !(Number.isInteger(c.rows) && c.rows >= 1))
    throw new RangeError(`chunk rows must be a positive integer, got ${c.rows}`);
  const policy = options.policy ?? DEFAULT_DRIFT_POLICY;
  const raw = options.rawValueRows ?? DEFAULT_RAW_VALUE_ROWS;
  const versionCode = columns.modelVersion.dictionary.indexOf(model.version);
  const codes = columns.modelVersion.codes;
  const selected: number[] = [];
  if (versionCode !== MISSING_CODE)
    for (let i = 0; i < columns.rowCount; i++) if (codes[i] === versionCode) selected.push(i);
  const chunks: ChunkResult[] = [];
  const timeAt = (k: number) => columns.createdAt[selected[k]!]!;
  for (const range of chunkRanges(selected.length, timeAt, c)) {
    const rows = Uint32Array.from(selected.slice(range.start, range.end));
    const data = windowDataFromColumns(model, columns, rows, raw);
    const a = analyzeWindow(model, data, policy);
    chunks.push(toChunk(chunks.length, range.from, range.to, a, options));
  }
  return {
    modelVersion: model.version,
    threshold: model.threshold,
    chunking: 'rows' in c ? { rows: c.rows } : { periodMs: c.periodMs },
    rows: selected.length,
    chunks,
  };
}
