/**
 * `churnwatch report`: an offline drift, data-quality and performance report comparing two CSV files
 * with a header (any columns, not only Expresso files).
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { createOptionReader } from '../../config/option-values.js';
import { readCsvTable } from '../../data/csv-reader.js';
import { ChurnwatchError, isChurnwatchError } from '../../errors.js';
import { parseDuration } from '../../monitor/chunks.js';
import { DEFAULT_DRIFT_POLICY, resolveDriftPolicy } from '../../monitor/drift-policy.js';
import { buildDriftReport, type DriftReport, formatReportSummary } from '../../monitor/report.js';
import type { ReportChunking } from '../../monitor/report-chunks.js';
import { renderReportHtml } from '../../monitor/report-html.js';
import type { RoleOptions } from '../../monitor/report-roles.js';
import { createCliLogger } from '../logger.js';

export interface ReportCommandOptions {
  reference: string;
  current: string;
  target?: string;
  score?: string;
  prediction?: string;
  id?: string;
  timestamp?: string;
  ignore?: string[];
  /** Infer the roles no option names (default true); false judges every other column as a feature. */
  infer?: boolean;
  /** The target's positive label when it is not 1/0, true/false or yes/no. */
  positiveLabel?: string;
  /** At most one of these: rows per chunk, a number of chunks, or a period such as `1d` (needs a timestamp). */
  chunkSize?: number;
  chunks?: number;
  chunkPeriod?: string;
  threshold?: number;
  json?: string;
  html?: string;
  minRows?: number;
  maxErrors?: number;
}

export interface ReportCommandResult {
  report: DriftReport;
  summary: string;
  /** The files written (--json, --html), in that order. */
  written: string[];
}

async function load(path: string, maxErrors: number) {
  const empty = () =>
    new ChurnwatchError('CW_REPORT_EMPTY_FILE', `${path} has no data rows`, {
      hint: 'pass a CSV file with a header line and at least one row',
    });
  const { table, skippedRows } = await readCsvTable(path, { schema: 'infer', maxErrors }).catch(
    (error: unknown) => {
      throw isChurnwatchError(error) && error.code === 'CW_DATA_CSV_EMPTY' ? empty() : error;
    },
  );
  if (table.rowCount === 0) throw empty();
  return { table, skippedRows };
}

/** Reads both files, builds the report, writes --json/--html when asked. Never exits the process. */
export async function runReport(options: ReportCommandOptions): Promise<ReportCommandResult> {
  const threshold = options.threshold ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1))
    throw new ChurnwatchError('CW_REPORT_BAD_OPTION', `--threshold must be in [0, 1], got ${threshold}`, {
      hint: 'use the model threshold, e.g. --threshold 0.5',
    });
  const maxErrors = options.maxErrors ?? 0;
  const [reference, current] = await Promise.all([
    load(options.reference, maxErrors),
    load(options.current, maxErrors),
  ]);
  const minWindowRows = options.minRows ?? DEFAULT_DRIFT_POLICY.minWindowRows;
  const policy = resolveDriftPolicy({
    minWindowRows,
    largeWindowRows: Math.max(minWindowRows, DEFAULT_DRIFT_POLICY.largeWindowRows),
  });
  const chunking = chunkingOf(options);
  const report = buildDriftReport(reference.table, current.table, {
    ...roleOptions(options),
    ...(options.positiveLabel !== undefined ? { positiveLabel: options.positiveLabel } : {}),
    ...(chunking ? { chunking } : {}),
    threshold,
    policy,
    referenceName: basename(options.reference),
    currentName: basename(options.current),
  });
  const written: string[] = [];
  if (options.json) {
    await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    written.push(options.json);
  }
  if (options.html) {
    await writeFile(options.html, renderReportHtml(report));
    written.push(options.html);
  }
  return { report, summary: formatReportSummary(report), written };
}

function badOption(message: string, hint: string): ChurnwatchError {
  return new ChurnwatchError('CW_REPORT_BAD_OPTION', message, { hint });
}

/** The one chunking asked for, if any. Throws CW_REPORT_BAD_OPTION for two of them or a bad value. */
function chunkingOf(options: ReportCommandOptions): ReportChunking | undefined {
  const given = (
    [
      ['--chunk-size', options.chunkSize],
      ['--chunks', options.chunks],
      ['--chunk-period', options.chunkPeriod],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (given.length > 1)
    throw badOption(
      `${given.map(([flag]) => flag).join(' and ')} cannot be combined: chunks are cut one way`,
      'pass one of --chunk-size N, --chunks K or --chunk-period 1d',
    );
  for (const [flag, value] of [
    ['--chunk-size', options.chunkSize],
    ['--chunks', options.chunks],
  ] as const)
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1))
      throw badOption(`${flag} must be a whole number ≥ 1, got ${value}`, `e.g. ${flag} 10`);
  if (options.chunkSize !== undefined) return { by: 'size', size: options.chunkSize };
  if (options.chunks !== undefined) return { by: 'count', count: options.chunks };
  if (options.chunkPeriod === undefined) return undefined;
  const periodMs = parseDuration(options.chunkPeriod);
  if (periodMs === undefined)
    throw badOption(
      `--chunk-period must be a duration such as 1h, 1d or 1w (units s, m, h, d, w), got ${JSON.stringify(options.chunkPeriod)}`,
      'e.g. --chunk-period 1w',
    );
  return { by: 'period', period: options.chunkPeriod.trim(), periodMs };
}

/** Options that name one column each with its role (report-roles.ts). */
const ROLE_FLAGS = ['target', 'score', 'prediction', 'id', 'timestamp'] as const;

/** The role options that are set, and nothing for those that are not. */
function roleOptions(options: ReportCommandOptions): RoleOptions {
  const roles: { -readonly [K in keyof RoleOptions]: RoleOptions[K] } = {};
  for (const key of ROLE_FLAGS) if (options[key]) roles[key] = options[key];
  if (options.ignore?.length) roles.ignore = options.ignore;
  if (options.infer === false) roles.infer = false;
  return roles;
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('Compare a current CSV with a reference CSV: drift per column, data quality, performance.')
    .requiredOption(
      '--reference <file>',
      'reference CSV (e.g. training data), env CHURNWATCH_REPORT_REFERENCE',
      process.env.CHURNWATCH_REPORT_REFERENCE,
    )
    .requiredOption(
      '--current <file>',
      'current CSV to check, env CHURNWATCH_REPORT_CURRENT',
      process.env.CHURNWATCH_REPORT_CURRENT,
    )
    .option(
      '--target <column>',
      '0/1 label column, for performance metrics',
      process.env.CHURNWATCH_REPORT_TARGET,
    )
    .option(
      '--score <column>',
      'churn probability column, for performance metrics',
      process.env.CHURNWATCH_REPORT_SCORE,
    )
    .option(
      '--prediction <column>',
      "the model's predicted class (1/0, true/false, yes/no or the target's labels): the class metrics and CBPE use it instead of the threshold",
      process.env.CHURNWATCH_REPORT_PREDICTION,
    )
    .option('--id <column>', 'row id column (not judged)', process.env.CHURNWATCH_REPORT_ID)
    .option('--timestamp <column>', 'time column (not judged)', process.env.CHURNWATCH_REPORT_TIMESTAMP)
    .option(
      '--ignore <columns>',
      'comma-separated columns not to judge',
      process.env.CHURNWATCH_REPORT_IGNORE,
    )
    .option('--no-infer', 'infer no roles: judge every column no flag names')
    .option(
      '--positive-label <label>',
      'the target label of the positive (churned) class, when not 1/0, true/false or yes/no',
      process.env.CHURNWATCH_REPORT_POSITIVE_LABEL,
    )
    .option('--chunk-size <n>', 'also report per chunk of N rows (env CHURNWATCH_REPORT_CHUNK_SIZE)')
    .option('--chunks <k>', 'also report per chunk, K equal chunks per file (env CHURNWATCH_REPORT_CHUNKS)')
    .option(
      '--chunk-period <period>',
      'also report per time period such as 1d, 1w, 6h; needs a timestamp column (env CHURNWATCH_REPORT_CHUNK_PERIOD)',
    )
    .option(
      '--threshold <p>',
      'class threshold on the score when no --prediction gives the class (env CHURNWATCH_THRESHOLD, default 0.5)',
    )
    .option('--min-rows <n>', 'rows below which no drift verdict is given (env CHURNWATCH_DRIFT_MIN_ROWS)')
    .option(
      '--max-errors <n>',
      'bad CSV rows tolerated before failing (env CHURNWATCH_MAX_ERRORS, default 0)',
    )
    .option('--json <file>', 'write the full report as JSON (layout: docs/report.md)')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .action(async (raw: Record<string, string | undefined>) => {
      const logger = createCliLogger('report');
      const options: ReportCommandOptions = { reference: raw.reference!, current: raw.current! };
      for (const key of ROLE_FLAGS) if (raw[key]) options[key] = raw[key];
      if (raw.ignore)
        options.ignore = raw.ignore
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean);
      if ((raw as { infer?: boolean }).infer === false) options.infer = false;
      const opt = createOptionReader(raw, process.env, { code: 'CW_REPORT_BAD_OPTION' });
      const threshold = opt.number('threshold', 'CHURNWATCH_THRESHOLD', { min: 0, max: 1, example: '0.5' });
      if (threshold !== undefined) options.threshold = threshold;
      const minRows = opt.integer('minRows', 'CHURNWATCH_DRIFT_MIN_ROWS', { min: 0, example: '500' });
      if (minRows !== undefined) options.minRows = minRows;
      const maxErrors = opt.integer('maxErrors', 'CHURNWATCH_MAX_ERRORS', { min: 0, example: '10' });
      if (maxErrors !== undefined) options.maxErrors = maxErrors;
      if (raw.positiveLabel) options.positiveLabel = raw.positiveLabel;
      const chunkSize = opt.integer('chunkSize', 'CHURNWATCH_REPORT_CHUNK_SIZE', { min: 1, example: '1000' });
      if (chunkSize !== undefined) options.chunkSize = chunkSize;
      const chunks = opt.integer('chunks', 'CHURNWATCH_REPORT_CHUNKS', { min: 1, example: '10' });
      if (chunks !== undefined) options.chunks = chunks;
      const chunkPeriod = opt.string('chunkPeriod', 'CHURNWATCH_REPORT_CHUNK_PERIOD');
      if (chunkPeriod !== undefined) options.chunkPeriod = chunkPeriod;
      if (raw.json) options.json = raw.json;
      if (raw.html) options.html = raw.html;
      const result = await runReport(options);
      process.stdout.write(result.summary);
      for (const file of result.written) logger.info({ file }, `report written to ${file}`);
    });
}
