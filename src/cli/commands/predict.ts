/**
 * `churnwatch predict`: scores every row of a CSV with a saved model, reading it by the model's schema,
 * and streams `<id column>,churn_probability,churn` to a file (or stdout with `--output -`): the id
 * column keeps its own name (`user_id` for Expresso, `customerID` for Telco; `row`, the 1-based row
 * number, when the schema has none). Labels in the input are allowed and ignored.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { createOptionReader } from '../../config/option-values.js';
import { readCsvTable } from '../../data/csv-reader.js';
import { ChurnwatchError } from '../../errors.js';
import { loadModelArtifact } from '../../model/model-io.js';
import { scoreTableParallel } from '../../model/parallel-scoring.js';
import { hiddenAlias } from '../hidden-alias.js';

export interface PredictOptions {
  readonly model: string;
  readonly input: string;
  /** A file path, or '-' for stdout. */
  readonly output: string;
}

export interface PredictResult {
  readonly modelVersion: string;
  readonly rows: number;
  readonly predictedChurners: number;
  readonly threshold: number;
  readonly output: string;
  readonly seconds: number;
}

const CHUNK_ROWS = 10_000;

/** A value as a CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

async function writeAll(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export async function runPredict(
  options: PredictOptions,
  stdout: Writable = process.stdout,
): Promise<PredictResult> {
  const t0 = performance.now();
  const { model } = await loadModelArtifact(options.model);
  const { table } = await readCsvTable(options.input, { schema: model.schema, ignoreTarget: true });
  // Large inputs are scored on two threads; the probabilities are bit-identical to model.scoreTable.
  const scores = await scoreTableParallel(model, table, { threads: Math.min(2, availableParallelism()) });
  const threshold = model.info.threshold;
  const toStdout = options.output === '-';
  const out = toStdout ? stdout : createWriteStream(options.output);
  const failed = new Promise<never>((_, reject) =>
    out.once('error', (error: Error) =>
      reject(
        new ChurnwatchError('CW_PREDICT_OUTPUT', `cannot write ${options.output}: ${error.message}`, {
          hint: 'check that the output directory exists and is writable',
          cause: error,
        }),
      ),
    ),
  );
  failed.catch(() => undefined); // an error after the last write has nobody left to tell
  let churners = 0;
  const work = (async () => {
    await writeAll(out, `${csvField(model.schema.id ?? 'row')},churn_probability,churn\n`);
    for (let start = 0; start < table.rowCount; start += CHUNK_ROWS) {
      let block = '';
      const end = Math.min(table.rowCount, start + CHUNK_ROWS);
      for (let i = start; i < end; i++) {
        const p = scores[i]!;
        const churn = p >= threshold ? 1 : 0;
        churners += churn;
        const id = table.ids ? csvField(table.ids[i]!) : String(i + 1);
        block += `${id},${p.toPrecision(6)},${churn}\n`;
      }
      await writeAll(out, block);
    }
    if (!toStdout) {
      out.end();
      await once(out, 'finish');
    }
  })();
  await Promise.race([work, failed]);
  return {
    modelVersion: model.info.version,
    rows: table.rowCount,
    predictedChurners: churners,
    threshold,
    output: options.output,
    seconds: (performance.now() - t0) / 1000,
  };
}

export function registerPredictCommand(program: Command): void {
  const predict = program
    .command('predict')
    .description('Score a CSV with a saved model: writes <id column>,churn_probability,churn for every row.')
    .option('--model <dir>', 'model directory or models/latest (env CHURNWATCH_MODEL, default models/latest)')
    .option(
      '--data <file>',
      "CSV to score, with the model's feature columns; the label column is optional (env CHURNWATCH_DATA)",
    )
    .option(
      '--output <file>',
      "where to write the predictions, '-' for stdout (env CHURNWATCH_OUTPUT, default -)",
    )
    .option('--json', 'print the summary as JSON (with --output FILE)')
    .action(async (flags: { model?: string; data?: string; output?: string; json?: boolean }) => {
      const opt = createOptionReader(flags, process.env, { code: 'CW_PREDICT_BAD_OPTION' });
      const data = opt.string('data', 'CHURNWATCH_DATA');
      if (!data)
        throw opt.error('no input file given', 'pass --data data/holdout.csv (or set CHURNWATCH_DATA)');
      const result = await runPredict({
        model: opt.string('model', 'CHURNWATCH_MODEL') ?? 'models/latest',
        input: data,
        output: opt.string('output', 'CHURNWATCH_OUTPUT') ?? '-',
      });
      if (result.output === '-') return;
      if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else
        process.stdout.write(
          `${result.rows} rows scored with model ${result.modelVersion} in ${result.seconds.toFixed(1)} s; ` +
            `${result.predictedChurners} predicted churners (threshold ${result.threshold.toFixed(4)}); written to ${result.output}\n`,
        );
    });
  hiddenAlias(predict, '--input <file>', 'data');
  hiddenAlias(predict, '--out <file>', 'output');
}
