/**
 * The offline drift report: any two tables with shared columns (not only Expresso files). Numeric
 * columns are binned on the reference's deciles with the project-wide convention, categorical columns on
 * the reference's categories; every statistic is computed, the drift policy picks the verdict, data
 * quality is checked, and classification performance is reported when target (and score) columns exist.
 * The JSON layout is documented in docs/report.md.
 */
import type { Column, ColumnarTable } from '../data/columnar-table.js';
import { type ColumnProfileOptions, columnProfile } from '../model/reference-profile.js';
import type { FeatureProfile } from '../model/reference-profile-types.js';
import { type EstimatedPerformance, estimatePerformance } from '../stats/cbpe.js';
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

export interface ReportOptions {
  /** Name of the 0/1 label column, when present. */
  readonly target?: string;
  /** Name of the score (churn probability) column, when present. */
  readonly score?: string;
  /** Class threshold for performance metrics (default 0.5). */
  readonly threshold?: number;
  readonly policy?: Readonly<DriftPolicyOptions>;
  readonly topCategories?: number;
  readonly referenceName?: string;
  readonly currentName?: string;
  /** Injected clock for `generatedAt`. */
  readonly now?: () => Date;
}

export interface ReportFeature extends FeatureDriftResult {
  /** Bin labels with reference and current shares, for charts. */
  bins: { labels: string[]; reference: number[]; current: number[] };
}

export interface PerformanceSection {
  rows: number;
  /** Realized metrics when both target and score are present. */
  metrics?: ClassificationMetrics;
  calibration?: { probTrue: number[]; probPred: number[]; counts: number[] };
  /** CBPE estimate from the score alone (assumes calibrated probabilities). */
  estimated?: EstimatedPerformance;
  /** Share of target = 1 when the target is present. */
  positiveRate?: number;
}

export interface DriftReport {
  formatVersion: typeof REPORT_FORMAT_VERSION;
  generatedAt: string;
  reference: { name: string; rows: number };
  current: { name: string; rows: number };
  policy: Readonly<DriftPolicyOptions>;
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
    threshold: number;
    reference?: PerformanceSection;
    current?: PerformanceSection;
  };
  skipped: { column: string; reason: string }[];
}

function numericValues(table: ColumnarTable, name: string | undefined): Float64Array | undefined {
  if (!name) return undefined;
  const column: Column | undefined = table.columns.get(name);
  if (column?.kind === 'numeric') return column.values;
  if (name === 'CHURN' && table.target) return Float64Array.from(table.target);
  if (column?.kind === 'categorical') {
    // A 0/1 target read as text ("0"/"1") still counts.
    const parsed = Float64Array.from(column.codes, (c) =>
      c < 0 ? Number.NaN : Number(column.dictionary[c]),
    );
    return parsed.every((v) => Number.isNaN(v) || Number.isFinite(v)) ? parsed : undefined;
  }
  return undefined;
}

function performanceSection(
  table: ColumnarTable,
  target: string | undefined,
  score: string | undefined,
  threshold: number,
): PerformanceSection | undefined {
  const y = numericValues(table, target);
  const s = numericValues(table, score);
  if (!y && !s) return undefined;
  const ys: number[] = [];
  const ss: number[] = [];
  for (let i = 0; i < table.rowCount; i++) {
    const yi = y ? y[i]! : 0;
    const si = s ? s[i]! : 0;
    if (Number.isNaN(yi) || Number.isNaN(si)) continue;
    ys.push(yi);
    ss.push(si);
  }
  const section: PerformanceSection = { rows: ys.length };
  if (ys.length === 0) return section;
  if (y) section.positiveRate = ys.reduce((a, b) => a + b, 0) / ys.length;
  if (y && s) {
    section.metrics = classificationMetrics(ys, ss, threshold);
    if (ss.every((v) => v >= 0 && v <= 1)) section.calibration = calibrationCurve(ys, ss, 10);
  }
  if (s && ss.every((v) => v >= 0 && v <= 1)) section.estimated = estimatePerformance(ss, threshold);
  return section;
}

/**
 * Builds the report from two tables. Shared columns other than target and score are compared; a column
 * numeric on one side and categorical on the other is skipped with a reason.
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
  const excluded = new Set(
    [options.target, options.score, 'user_id'].filter((c): c is string => c !== undefined),
  );
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
      },
    };
  });
  const report: DriftReport = {
    formatVersion: REPORT_FORMAT_VERSION,
    generatedAt: (options.now ?? (() => new Date()))().toISOString(),
    reference: { name: options.referenceName ?? 'reference', rows: reference.rowCount },
    current: { name: options.currentName ?? 'current', rows: current.rowCount },
    policy,
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
  if (options.target || options.score) {
    const perf: NonNullable<DriftReport['performance']> = { threshold };
    if (options.target) perf.target = options.target;
    if (options.score) perf.score = options.score;
    const refSection = performanceSection(reference, options.target, options.score, threshold);
    const curSection = performanceSection(current, options.target, options.score, threshold);
    if (refSection) perf.reference = refSection;
    if (curSection) perf.current = curSection;
    report.performance = perf;
  }
  return report;
}

function fmt(value: number | undefined, digits = 4): string {
  if (value === undefined) return '-';
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(2);
  return value.toFixed(digits);
}

/** A plain-text summary table for the terminal. */
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
  for (const f of report.features) {
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
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const s = report.summary;
  lines.unshift(
    `drift report: ${report.current.name} (${report.current.rows} rows) vs ${report.reference.name} (${report.reference.rows} rows)`,
    `drifted columns: ${s.drifted}/${s.judged} judged (share ${fmt(s.driftShare, 2)})${s.datasetDrift ? ' — DATASET DRIFT' : ''}`,
    '',
  );
  const issues = report.dataQuality.filter((q) => q.issues.length > 0);
  if (issues.length > 0) {
    lines.push('', 'data quality:');
    for (const q of issues) lines.push(`  ${q.feature}: ${q.issues.join('; ')}`);
  }
  const perf = report.performance;
  if (perf) {
    lines.push('', `performance at threshold ${perf.threshold}:`);
    for (const [label, section] of [
      ['reference', perf.reference],
      ['current', perf.current],
    ] as const) {
      if (!section) continue;
      const m = section.metrics;
      if (m)
        lines.push(
          `  ${label}: rows ${m.rows}  roc_auc ${fmt(m.rocAuc)}  accuracy ${fmt(m.accuracy)}  precision ${fmt(m.precision)}  recall ${fmt(m.recall)}  f1 ${fmt(m.f1)}  log_loss ${fmt(m.logLoss)}`,
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
  return `${lines.join('\n')}\n`;
}
