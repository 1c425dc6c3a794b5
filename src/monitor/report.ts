/**
 * The offline drift report: any two tables with shared columns (not only Expresso files). Numeric
 * columns are binned on the reference's deciles with the project-wide convention, categorical columns on
 * the reference's categories; every statistic is computed, the drift policy picks the verdict, data
 * quality is checked, and classification performance is reported when target (and score) columns exist.
 * The JSON layout is documented in docs/report.md.
 */
import type { ColumnarTable } from '../data/columnar-table.js';
import { ChurnwatchError, isChurnwatchError } from '../errors.js';
import { type ColumnProfileOptions, columnProfile } from '../model/reference-profile.js';
import type { FeatureProfile } from '../model/reference-profile-types.js';
import { type EstimatedPerformance, estimatePerformance } from '../stats/cbpe.js';
import {
  type CbpeCalibration,
  cbpeCalibrator,
  fitCbpeCalibration,
  formatCbpeChoice,
  type ScoreCalibrator,
} from '../stats/cbpe-calibration.js';
import {
  type ClassificationMetrics,
  calibrationCurve,
  classificationMetrics,
} from '../stats/classification.js';
import { evaluateDataQuality, type FeatureQuality } from './data-quality.js';
import {
  DEFAULT_DRIFT_POLICY,
  type DriftPolicyOptions,
  evaluateDrift,
  type FeatureDriftResult,
  windowFromTable,
} from './drift-policy.js';
import { analyzeReportChunks, type ChunkTable, type ReportChunking } from './report-chunks.js';
import { assignColumnRoles, columnWithRole, type RoleAssignment, type RoleOptions } from './report-roles.js';
import {
  predictionVector,
  scoreVector,
  type TargetLabels,
  targetLabels,
  targetVector,
} from './report-target.js';
import { timestampsMs } from './report-timestamps.js';

export const REPORT_FORMAT_VERSION = 1;

/**
 * A reference profile of the named columns of any table, built per column by `columnProfile`, the
 * model artifact's builder: decile bins for numeric columns, top categories for categorical ones. By
 * default every reference value is kept for KS and Wasserstein. Numeric columns with no non-missing
 * value are left out (returned in `skipped`).
 */
export function buildTableProfile(
  table: ColumnarTable,
  columns: readonly string[],
  options: ColumnProfileOptions = {},
): { features: Record<string, FeatureProfile>; skipped: { column: string; reason: string }[] } {
  const features: Record<string, FeatureProfile> = {};
  const skipped: { column: string; reason: string }[] = [];
  for (const name of columns) {
    const column = table.columns.get(name);
    if (!column) {
      skipped.push({ column: name, reason: 'not in the reference' });
      continue;
    }
    if (column.kind === 'numeric' && column.values.every(Number.isNaN))
      skipped.push({ column: name, reason: 'every reference value is missing' });
    else features[name] = columnProfile(name, column, options);
  }
  return { features, skipped };
}

/**
 * Column roles (target, score, prediction, id, timestamp, ignored: never judged as features) come from
 * `RoleOptions`; roles no option names are inferred unless `infer` is false (report-roles.ts). A
 * prediction column named by `prediction` is the model's class ŷ for every class metric, realized and
 * estimated; an inferred one is only kept out of the features.
 */
export interface ReportOptions extends RoleOptions {
  /** Class threshold for performance metrics when no prediction column gives ŷ (default 0.5). */
  readonly threshold?: number;
  readonly policy?: Readonly<DriftPolicyOptions>;
  readonly topCategories?: number;
  readonly referenceName?: string;
  readonly currentName?: string;
  /** The target's label of the positive class, when its labels are not 1/0, true/false or yes/no. */
  readonly positiveLabel?: string;
  /** Cut both files into chunks and analyse each (report-chunks.ts); the report gets `chunks`. */
  readonly chunking?: ReportChunking;
  /** Injected clock for `generatedAt`. */
  readonly now?: () => Date;
}

export interface ReportFeature extends FeatureDriftResult {
  /**
   * Bin labels with reference and current shares, for charts. Numeric columns add `bounds`: the
   * reference minimum, the interior edges and the maximum, so quantile bin i (label i + 1, after
   * `below`) is [bounds[i], bounds[i + 1]).
   */
  bins: { labels: string[]; reference: number[]; current: number[]; bounds?: number[] };
}

export interface PerformanceSection {
  rows: number;
  /**
   * Where ŷ (the predicted class) comes from in this file: the prediction column, or score ≥ threshold.
   * Absent when the file has neither a score nor the prediction column.
   */
  predictedClassFrom?: 'prediction' | 'threshold';
  /** Realized metrics when both target and score are present (class metrics from ŷ, ROC AUC from the score). */
  metrics?: ClassificationMetrics;
  calibration?: { probTrue: number[]; probPred: number[]; counts: number[] };
  /** CBPE estimate from the score (calibrated as `performance.cbpe` says), with ŷ as above. */
  estimated?: EstimatedPerformance;
  /** Share of target = 1 when the target is present. */
  positiveRate?: number;
  /** Share of ŷ = 1: the predicted-class distribution. */
  predictedPositiveRate?: number;
}

export interface DriftReport {
  formatVersion: typeof REPORT_FORMAT_VERSION;
  generatedAt: string;
  reference: { name: string; rows: number };
  current: { name: string; rows: number };
  policy: Readonly<DriftPolicyOptions>;
  /** Columns that are not features, each with its role and whether a flag named it or it was inferred. */
  roles: RoleAssignment[];
  summary: {
    columns: number;
    judged: number;
    drifted: number;
    driftShare: number;
    datasetDrift: boolean | null;
  };
  features: ReportFeature[];
  dataQuality: FeatureQuality[];
  performance?: {
    target?: string;
    score?: string;
    /** The prediction column giving ŷ (`--prediction`); without it ŷ is score ≥ threshold. */
    prediction?: string;
    threshold: number;
    /**
     * How CBPE's estimates treat the scores: calibrated by isotonic regression on the reference when that
     * lowers the expected calibration error there (NannyML's rule), with the ECE before and after.
     */
    cbpe?: Omit<CbpeCalibration, 'thresholds'>;
    reference?: PerformanceSection;
    current?: PerformanceSection;
  };
  skipped: { column: string; reason: string }[];
  /** Per chunk of both files, with `chunking` (docs/report.md, "Chunks"). */
  chunks?: ChunkTable;
}

/** One file's per-row inputs to its performance: target, score and ŷ (NaN = missing; undefined = no column). */
interface PerformanceInputs {
  readonly y?: Float64Array | undefined;
  readonly score?: Float64Array | undefined;
  readonly predicted?: Float64Array | undefined;
}

function performanceSection(
  rowCount: number,
  { y, score: s, predicted }: PerformanceInputs,
  threshold: number,
  calibrator: ScoreCalibrator | undefined,
): PerformanceSection | undefined {
  if (!y && !s) return undefined;
  const ys: number[] = [];
  const ss: number[] = [];
  const classes: number[] = [];
  for (let i = 0; i < rowCount; i++) {
    const yi = y ? y[i]! : 0;
    const si = s ? s[i]! : 0;
    const ci = predicted ? predicted[i]! : si >= threshold ? 1 : 0;
    if (Number.isNaN(yi) || Number.isNaN(si) || Number.isNaN(ci)) continue;
    ys.push(yi);
    ss.push(si);
    classes.push(ci);
  }
  const section: PerformanceSection = { rows: ys.length };
  const hasClass = predicted !== undefined || s !== undefined;
  if (hasClass) section.predictedClassFrom = predicted ? 'prediction' : 'threshold';
  if (ys.length === 0) return section;
  if (y) section.positiveRate = mean(ys);
  if (hasClass) section.predictedPositiveRate = mean(classes);
  // NannyML's y_pred: the model's own classes when given, else the threshold rule.
  const decisions = predicted ? classes : threshold;
  if (y && s) {
    section.metrics = classificationMetrics(ys, ss, decisions);
    if (ss.every((v) => v >= 0 && v <= 1)) section.calibration = calibrationCurve(ys, ss, 10);
  }
  if (s && ss.every((v) => v >= 0 && v <= 1))
    section.estimated = estimatePerformance(ss, decisions, calibrator);
  return section;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * CBPE's calibration of the reference scores, as NannyML decides it (stats/cbpe-calibration.ts): fitted on
 * the reference rows with a label and a score in [0, 1]; undefined without both columns.
 */
function referenceCalibration(
  y: Float64Array | undefined,
  s: Float64Array | undefined,
  rowCount: number,
): CbpeCalibration | undefined {
  if (!y || !s) return undefined;
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < rowCount; i++) {
    if (Number.isNaN(y[i]!) || Number.isNaN(s[i]!)) continue;
    if (!(s[i]! >= 0 && s[i]! <= 1)) return undefined;
    scores.push(s[i]!);
    labels.push(y[i]!);
  }
  return scores.length > 0 ? fitCbpeCalibration(scores, labels) : undefined;
}

/**
 * Builds the report from two tables. Shared columns other than those with a role (target, score,
 * prediction, id, timestamp, ignored; given or inferred, see report-roles.ts) are compared; a column
 * numeric on one side and categorical on the other is skipped with a reason. Throws
 * CW_REPORT_NO_COMMON_FEATURES when no feature column is left to compare, naming both tables' columns.
 * Cost: O(n log n) per numeric column (sorts for quantiles, KS and Wasserstein).
 */
export function buildDriftReport(
  reference: ColumnarTable,
  current: ColumnarTable,
  options: ReportOptions = {},
): DriftReport {
  // Offline there is time for SciPy's exact KS p-value at every size it uses one.
  const policy = options.policy ?? { ...DEFAULT_DRIFT_POLICY, ksExactMaxProduct: Number.MAX_SAFE_INTEGER };
  const threshold = options.threshold ?? 0.5;
  const names = {
    reference: options.referenceName ?? 'reference',
    current: options.currentName ?? 'current',
  };
  const roles = assignColumnRoles(reference, current, options, names);
  const excluded = new Set(roles.map((r) => r.column));
  const skipped: { column: string; reason: string }[] = [];
  const shared: string[] = [];
  for (const name of reference.header) {
    if (excluded.has(name)) continue;
    const ref = reference.columns.get(name);
    const cur = current.columns.get(name);
    if (!ref) continue;
    if (!cur) {
      skipped.push({ column: name, reason: 'not in the current file' });
      continue;
    }
    if (ref.kind !== cur.kind) {
      skipped.push({
        column: name,
        reason: `${ref.kind} in the reference but ${cur.kind} in the current file`,
      });
      continue;
    }
    shared.push(name);
  }
  for (const name of current.header)
    if (!excluded.has(name) && !reference.columns.has(name))
      skipped.push({ column: name, reason: 'not in the reference file' });

  const profile = buildTableProfile(reference, shared, { topCategories: options.topCategories ?? 20 });
  skipped.push(...profile.skipped);
  if (Object.keys(profile.features).length === 0) throw noCommonFeatures(reference, current, names, roles);
  const window = windowFromTable(profile, current);
  const drift = evaluateDrift(profile, window, policy);
  const features: ReportFeature[] = drift.features.map((f) => {
    const p = profile.features[f.feature]!;
    const counts = window.features[f.feature]!.binCounts;
    const rows = f.rows;
    return {
      ...f,
      bins: {
        labels: [...p.labels],
        reference: [...p.shares],
        current: Array.from(counts, (c) => (rows === 0 ? 0 : c / rows)),
        ...(p.kind === 'numeric' ? { bounds: [p.min, ...p.edges, p.max] } : {}),
      },
    };
  });
  const report: DriftReport = {
    formatVersion: REPORT_FORMAT_VERSION,
    generatedAt: (options.now ?? (() => new Date()))().toISOString(),
    reference: { name: names.reference, rows: reference.rowCount },
    current: { name: names.current, rows: current.rowCount },
    policy,
    roles,
    summary: {
      columns: features.length,
      judged: drift.judged,
      drifted: drift.drifted,
      driftShare: drift.driftShare,
      datasetDrift: drift.datasetDrift,
    },
    features,
    dataQuality: evaluateDataQuality(profile.features, window, current),
    skipped,
  };
  const target = columnWithRole(roles, 'target');
  const score = columnWithRole(roles, 'score');
  // Only a column the user named is ŷ: an inferred one might be anything two-valued.
  const prediction = options.prediction;
  const files = `${names.reference} and ${names.current}`;
  const labels = target
    ? targetLabels([reference, current], target, files, options.positiveLabel)
    : undefined;
  const classLabels: TargetLabels | undefined =
    labels ?? (options.positiveLabel !== undefined ? { positive: options.positiveLabel } : undefined);
  const vectors = (table: ColumnarTable, name: string) => ({
    table,
    y: target && labels ? targetVector(table, target, labels.positive) : undefined,
    score: score ? scoreVector(table, score) : undefined,
    predicted: prediction ? predictionVector(table, prediction, classLabels, name) : undefined,
  });
  const ref = vectors(reference, names.reference);
  const cur = vectors(current, names.current);
  let calibrator: ScoreCalibrator | undefined;
  if (target || score) {
    const perf: NonNullable<DriftReport['performance']> = { threshold };
    if (target) perf.target = target;
    if (score) perf.score = score;
    if (prediction) perf.prediction = prediction;
    const cbpe = referenceCalibration(ref.y, ref.score, reference.rowCount);
    calibrator = cbpeCalibrator(cbpe);
    if (cbpe) {
      const { thresholds: _map, ...choice } = cbpe;
      perf.cbpe = choice;
    }
    const refSection = performanceSection(reference.rowCount, ref, threshold, calibrator);
    const curSection = performanceSection(current.rowCount, cur, threshold, calibrator);
    if (refSection) perf.reference = refSection;
    if (curSection) perf.current = curSection;
    report.performance = perf;
  }
  if (options.chunking) {
    const timestamp = columnWithRole(roles, 'timestamp');
    const times = chunkTimes(options.chunking, timestamp, { reference, current }, names);
    report.chunks = analyzeReportChunks(
      {
        features: profile.features,
        policy,
        threshold,
        chunking: options.chunking,
        ...(timestamp ? { timestamp } : {}),
        calibrator,
      },
      { ...ref, times: times.reference },
      { ...cur, times: times.current },
    );
  }
  return report;
}

/**
 * Epoch ms per row of the timestamp column in each file. Chunking by period needs them in the current
 * file (CW_REPORT_BAD_OPTION without a timestamp column, CW_REPORT_BAD_TIMESTAMP on a row without a
 * time); a reference without the column is one chunk. Other chunkings use times only to label chunks,
 * so unreadable times are left out there.
 */
function chunkTimes(
  chunking: ReportChunking,
  timestamp: string | undefined,
  tables: { reference: ColumnarTable; current: ColumnarTable },
  names: { reference: string; current: string },
): { reference?: Float64Array; current?: Float64Array } {
  const byPeriod = chunking.by === 'period';
  if (byPeriod && !(timestamp && tables.current.columns.has(timestamp)))
    throw new ChurnwatchError(
      'CW_REPORT_BAD_OPTION',
      `--chunk-period ${chunking.period} needs a timestamp column in ${names.current}: ${timestamp ? `${timestamp} is not in it` : 'none was given with --timestamp or recognised (ISO 8601 dates, or epoch seconds/ms under a time-like name)'}`,
      {
        hint: 'name the time column with --timestamp COLUMN, or chunk by rows with --chunk-size N or --chunks K',
      },
    );
  const out: { reference?: Float64Array; current?: Float64Array } = {};
  if (!timestamp) return out;
  for (const side of ['reference', 'current'] as const) {
    const table = tables[side];
    if (!table.columns.has(timestamp)) continue;
    try {
      out[side] = timestampsMs(table, timestamp, names[side]);
    } catch (error) {
      if (byPeriod || !isChurnwatchError(error)) throw error;
    }
  }
  return out;
}

function noCommonFeatures(
  reference: ColumnarTable,
  current: ColumnarTable,
  names: { reference: string; current: string },
  roles: readonly RoleAssignment[],
): ChurnwatchError {
  const set = roles.map((r) => `${r.column} (${r.role})`);
  return new ChurnwatchError(
    'CW_REPORT_NO_COMMON_FEATURES',
    [
      `${names.reference} and ${names.current} have no feature column in common to compare`,
      `  ${names.reference} columns: ${reference.header.join(', ') || '(none)'}`,
      `  ${names.current} columns: ${current.header.join(', ') || '(none)'}`,
      ...(set.length > 0 ? [`  not features: ${set.join(', ')}`] : []),
    ].join('\n'),
    {
      hint: 'compare two files of the same layout (same column names); check --ignore, --id and the other role flags',
    },
  );
}

function fmt(value: number | undefined, digits = 4): string {
  if (value === undefined) return '-';
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(2);
  return value.toFixed(digits);
}

/** Statistic names for people (HTML charts and verdict lines). */
export const STATISTIC_NAMES: Record<string, string> = {
  psi: 'PSI',
  jensen_shannon: 'Jensen-Shannon',
  ks: 'KS',
  wasserstein_normed: 'Wasserstein/σ',
  chi_square: 'χ²',
};

/** How a role was decided, for people: `--target` or `inferred: a distinct text value in every row`. */
export function describeRole(role: RoleAssignment): string {
  return role.source === 'option' ? `given by ${role.reason}` : `inferred: ${role.reason}`;
}

/**
 * How strongly a feature drifts, for sorting: the statistic over its threshold, or for a p-value test
 * log(p) over log(alpha); ≥ 1 means drift. 0 when there is no verdict.
 */
export function driftStrength(f: FeatureDriftResult, alpha: number): number {
  if (f.drifted === null) return 0;
  if (f.thresholdSource === 'p-value') {
    const p = f.pValues[f.method];
    return p === undefined ? 0 : Math.log(Math.max(p, Number.MIN_VALUE)) / Math.log(alpha);
  }
  const score = f.scores[f.method];
  const limit = f.thresholds[f.method];
  return score === undefined || !limit ? 0 : score / limit;
}

/** Drifting features first, then by drift strength, then features without a verdict last; stable. */
export function featuresByConcern<F extends FeatureDriftResult>(features: readonly F[], alpha: number): F[] {
  const rank = (f: F) => (f.drifted === true ? 0 : f.drifted === false ? 1 : 2);
  return [...features].sort((a, b) => rank(a) - rank(b) || driftStrength(b, alpha) - driftStrength(a, alpha));
}

/** Columns padded to their widest cell, a rule under the header row. */
function textTable(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines;
}

/** The chunk table for the terminal: one line per chunk, reference chunks first. */
function formatChunkTable(chunks: ChunkTable): string[] {
  const how =
    chunks.by === 'size'
      ? `${chunks.size} rows`
      : chunks.by === 'count'
        ? `${chunks.count} per file`
        : `period ${chunks.period}`;
  const rows = [
    ['period', 'chunk', 'rows', 'drifted', 'est. accuracy', 'accuracy', 'est. roc_auc', 'roc_auc', 'alerts'],
  ];
  for (const c of chunks.table)
    rows.push([
      c.period,
      c.key,
      String(c.rows),
      `${c.drifted}/${c.judged}`,
      fmt(c.estimated?.accuracy, 3),
      fmt(c.realized?.accuracy, 3),
      fmt(c.estimated?.rocAuc ?? undefined, 3),
      fmt(c.realized?.rocAuc ?? undefined, 3),
      c.alerts.length === 0
        ? '-'
        : `${c.alerts[0]}${c.alerts.length > 1 ? ` (+${c.alerts.length - 1} more)` : ''}`,
    ]);
  return [`chunks (${how}${chunks.timestamp ? `, timestamp ${chunks.timestamp}` : ''}):`, ...textTable(rows)];
}

/**
 * What ŷ is, for people: `performance at threshold 0.5`, or `performance, predicted class from column
 * pred` (saying which file fell back to the threshold for lack of the column).
 */
export function performanceHeading(report: DriftReport): string {
  const perf = report.performance;
  if (!perf?.prediction) return `performance at threshold ${perf?.threshold}`;
  const lacking = (['reference', 'current'] as const).filter(
    (side) => perf[side]?.predictedClassFrom === 'threshold',
  );
  const fallback = lacking.map((side) => report[side].name).join(' and ');
  return `performance, predicted class from column ${perf.prediction}${fallback ? ` (score ≥ ${perf.threshold} in ${fallback}, which lacks it)` : ''}`;
}

/** A plain-text summary table for the terminal, drifting columns first. */
export function formatReportSummary(report: DriftReport): string {
  const rows = [
    [
      'column',
      'kind',
      'rows',
      'method',
      'score',
      'threshold',
      'p-value',
      'wasserstein/std',
      'wasserstein',
      'verdict',
    ],
  ];
  for (const f of featuresByConcern(report.features, report.policy.alpha)) {
    rows.push([
      f.feature,
      f.kind,
      String(f.rows),
      f.method,
      fmt(f.scores[f.method]),
      f.thresholdSource === 'p-value' ? `p<${report.policy.alpha}` : fmt(f.thresholds[f.method]),
      fmt(f.pValues[f.method]),
      fmt(f.scores.wasserstein_normed),
      fmt(f.wasserstein),
      f.drifted === null ? 'too few rows' : f.drifted ? 'DRIFT' : 'ok',
    ]);
  }
  const lines = textTable(rows);
  const s = report.summary;
  lines.unshift(
    `drift report: ${report.current.name} (${report.current.rows} rows) vs ${report.reference.name} (${report.reference.rows} rows)`,
    `drifted columns: ${s.drifted}/${s.judged} judged (share ${fmt(s.driftShare, 2)})${s.datasetDrift ? ' — DATASET DRIFT' : ''}`,
    `feature columns compared: ${s.columns}${report.roles.length > 0 ? '; not judged as features:' : ''}`,
    ...report.roles.map((r) => `  ${r.column}: ${r.role} (${describeRole(r)})`),
    '',
  );
  const issues = report.dataQuality.filter((q) => q.issues.length > 0);
  if (issues.length > 0) {
    lines.push('', 'data quality:');
    for (const q of issues) lines.push(`  ${q.feature}: ${q.issues.join('; ')}`);
  }
  const perf = report.performance;
  if (perf) {
    lines.push('', `${performanceHeading(report)}:`);
    if (perf.cbpe) lines.push(`  estimated performance (CBPE): ${formatCbpeChoice(perf.cbpe, 'reference')}`);
    for (const [label, section] of [
      ['reference', perf.reference],
      ['current', perf.current],
    ] as const) {
      if (!section) continue;
      const m = section.metrics;
      if (m)
        lines.push(
          `  ${label}: rows ${m.rows}  roc_auc ${fmt(m.rocAuc)}  accuracy ${fmt(m.accuracy)}  precision ${fmt(m.precision)}  recall ${fmt(m.recall)}  f1 ${fmt(m.f1)}  specificity ${fmt(m.specificity)}  log_loss ${fmt(m.logLoss)}  predicted positive ${fmt(section.predictedPositiveRate)}`,
        );
      else if (section.estimated)
        lines.push(
          `  ${label}: rows ${section.rows}  estimated (CBPE) accuracy ${fmt(section.estimated.accuracy)}  f1 ${fmt(section.estimated.f1)}`,
        );
      else if (section.positiveRate !== undefined)
        lines.push(`  ${label}: rows ${section.rows}  positive rate ${fmt(section.positiveRate)}`);
    }
  }
  for (const s of report.skipped) lines.push(`skipped ${s.column}: ${s.reason}`);
  if (report.chunks) lines.push('', ...formatChunkTable(report.chunks));
  return `${lines.join('\n')}\n`;
}
