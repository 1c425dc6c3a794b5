/**
 * The schema flags of the commands that read a labelled CSV by an inferred schema (`train`, `import
 * xgboost`): one set of options, one reading of them, and one way to read the file by what inference
 * decided, so the two commands cannot drift apart (docs/schema.md).
 */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { OptionReader } from '../config/option-values.js';
import { type ReadCsvOptions, type ReadCsvResult, readCsvTable } from '../data/csv-reader.js';
import type { DatasetSchema } from '../data/dataset-schema.js';
import type { InferredSchema, SchemaFlags } from '../data/infer-schema.js';

/** What the user asked of the schema: the flags and a schema file under them. */
export interface SchemaRequest {
  /** `--target`, `--positive-label`, `--id`, `--ignore`, `--categorical`, `--numeric` (docs/schema.md). */
  readonly schemaFlags?: SchemaFlags;
  /** `--schema`: a schema file, over inference and under the flags. */
  readonly schemaFile?: string;
}

/** Registers `--target` … `--schema` on `command`. */
export function addSchemaOptions(command: Command): Command {
  return command
    .option(
      '--target <column>',
      'the label column (default CHURN, or a two-valued column named like churn/target/label)',
    )
    .option(
      '--positive-label <value>',
      'the target value of the churned class (1/0, true/false, yes/no are recognised)',
    )
    .option('--id <column>', 'the column naming each row, never a feature (default: inferred)')
    .option('--ignore <columns>', 'comma-separated columns to leave out')
    .option('--categorical <columns>', 'comma-separated columns to take as categorical')
    .option('--numeric <columns>', 'comma-separated columns to take as numeric')
    .option('--schema <file>', 'a schema file (docs/schema.md); the flags above override it');
}

/** The schema flags and file as the command was given them (no environment variables: they name columns). */
export function readSchemaOptions(opt: OptionReader): SchemaRequest {
  const target = opt.string('target');
  const positiveLabel = opt.string('positiveLabel');
  const id = opt.string('id');
  const schemaFile = opt.string('schema');
  const schemaFlags: SchemaFlags = {
    ...(target !== undefined ? { target } : {}),
    ...(positiveLabel !== undefined ? { positiveLabel } : {}),
    ...(id !== undefined ? { id } : {}),
    ...Object.fromEntries(
      (['ignore', 'categorical', 'numeric'] as const).flatMap((key) => {
        const columns = opt.list(key);
        return columns ? [[key, columns]] : [];
      }),
    ),
  };
  return { schemaFlags, ...(schemaFile !== undefined ? { schemaFile } : {}) };
}

/** Whether the user said anything of the schema (a flag or a file). */
export function schemaRequested(request: SchemaRequest): boolean {
  return (
    request.schemaFile !== undefined || Object.values(request.schemaFlags ?? {}).some((v) => v !== undefined)
  );
}

/**
 * Reads a labelled CSV by `schema`. With `inferred` (the inference that gave the schema), what inference
 * reported it reads as missing (non-numeric cells, rows without a label) is read so here too, counted
 * again and logged.
 */
export async function readLabelledTable(
  file: string,
  schema: DatasetSchema,
  inferred: InferredSchema | undefined,
  logger: Logger,
  options: Pick<ReadCsvOptions, 'maxRows' | 'onProgress'> = {},
): Promise<ReadCsvResult> {
  const read = await readCsvTable(file, {
    schema,
    ...options,
    ...(inferred
      ? {
          nonNumericAsMissing: inferred.columns.filter((c) => c.nonNumeric > 0).map((c) => c.name),
          unlabelled: 'skip' as const,
        }
      : {}),
  });
  for (const [column, cells] of Object.entries(read.nonNumericCells ?? {}))
    logger.info({ column, cells }, 'non-numeric cells of a numeric column read as missing');
  if ((read.unlabelledRows ?? 0) > 0)
    logger.info({ column: schema.target.column, rows: read.unlabelledRows }, 'rows without a label left out');
  return read;
}
