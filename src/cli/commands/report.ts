/**
 * `churnwatch report`: an offline drift, data-quality and performance report comparing two CSV files
 * with a header (any columns, not only Expresso files).
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { readCsvTable } from '../../data/csv-reader.js';
import { ChurnwatchError } from '../../errors.js';
import { DEFAULT_DRIFT_POLICY, resolveDriftPolicy } from '../../monitor/drift-policy.js';
import { buildDriftReport, type DriftReport, formatReportSummary } from '../../monitor/report.js';
import { renderReportHtml } from '../../monitor/report-html.js';
import { createCliLogger } from '../logger.js';
import { createOptionReader } from '../parse-options.js';

export interface ReportCommandOptions {
  reference: string;
  current: string;
  target?: string;
  score?: string;
  threshold?: number;
  json?: string;
  html?: string;
  minRows?: number;
  maxErrors?: number;
}

export interface ReportCommandResult {
  report: DriftReport;
  summary: string;
}

async function load(path: string, maxErrors: number) {
  const { table, skippedRows } = await readCsvTable(path, { schema: 'infer', maxErrors });
  if (table.rowCount === 0)
    throw new ChurnwatchError('CW_REPORT_EMPTY_FILE', `${path} has no data rows`, {
      hint: 'pass a CSV file with a header line and at least one row',
    });
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
  for (const column of [options.target, options.score]) {
    if (column && !current.table.columns.has(column) && !reference.table.columns.has(column))
      throw new ChurnwatchError(
        'CW_REPORT_UNKNOWN_COLUMN',
        `column ${column} is in neither ${options.reference} nor ${options.current}`,
        {
          hint: `check the header; the current file has: ${current.table.header.join(', ')}`,
        },
      );
  }
  const minWindowRows = options.minRows ?? DEFAULT_DRIFT_POLICY.minWindowRows;
  const policy = resolveDriftPolicy({
    minWindowRows,
    largeWindowRows: Math.max(minWindowRows, DEFAULT_DRIFT_POLICY.largeWindowRows),
  });
  const report = buildDriftReport(reference.table, current.table, {
    ...(options.target ? { target: options.target } : {}),
    ...(options.score ? { score: options.score } : {}),
    threshold,
    policy,
    referenceName: basename(options.reference),
    currentName: basename(options.current),
  });
  if (options.json) await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
  if (options.html) await writeFile(options.html, renderReportHtml(report));
  return { report, summary: formatReportSummary(report) };
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
    .option('--threshold <p>', 'class threshold on the score (env CHURNWATCH_THRESHOLD, default 0.5)')
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
      if (raw.target) options.target = raw.target;
      if (raw.score) options.score = raw.score;
      const opt = createOptionReader(raw, process.env, { code: 'CW_REPORT_BAD_OPTION' });
      const threshold = opt.number('threshold', 'CHURNWATCH_THRESHOLD', { min: 0, max: 1, example: '0.5' });
      if (threshold !== undefined) options.threshold = threshold;
      const minRows = opt.integer('minRows', 'CHURNWATCH_DRIFT_MIN_ROWS', { min: 0, example: '500' });
      if (minRows !== undefined) options.minRows = minRows;
      const maxErrors = opt.integer('maxErrors', 'CHURNWATCH_MAX_ERRORS', { min: 0, example: '10' });
      if (maxErrors !== undefined) options.maxErrors = maxErrors;
      if (raw.json) options.json = raw.json;
      if (raw.html) options.html = raw.html;
      const result = await runReport(options);
      process.stdout.write(result.summary);
      logger.info(
        { json: options.json, html: options.html, drifted: result.report.summary.drifted },
        'report written',
      );
    });
}
