/**
 * Reads a CSV into a ColumnarTable, streaming: the file is read in 4 MB byte chunks and parsed byte by
 * byte (RFC 4180: quoted fields, "" escapes, commas and line breaks inside quotes, CRLF or LF, a UTF-8
 * BOM), so memory holds the columns, never the file as one string. Numbers are parsed from the bytes
 * without allocating; categorical values are looked up by a hash of their bytes, so a repeated value
 * (TENURE, MRG, REGION…) costs no string allocation. By Expresso's rules nothing is trimmed: TOP_PACK names ending in tabs
 * keep their tabs. An empty field is a missing value; blank lines are skipped.
 *
 * Schemas: 'expresso' checks the Train.csv header (with or without CHURN) and types each column from
 * customer-schema.ts; 'infer' takes any header and makes a column numeric when every value that is not a
 * default missing token (blank, NA…) is a finite number, categorical otherwise; a DatasetSchema (dataset-schema.ts) matches columns by name and
 * reads cells by its rules: trimmed, its missing tokens, its target labels (csv-schema-row.ts). Those
 * rules are the general path's; a schema that reads like Expresso's takes the fast path.
 *
 * Speed: most rows go through a one-pass fast path (csv-fast-path.ts). With `threads: 2` the file is
 * cut in two at a row boundary and the second part parsed on a worker thread, then appended (same table,
 * same errors with the true row and line numbers, same dictionary order). Measured in bench/data.bench.ts.
 */
import type { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerScript } from '../worker-script.js';
import { feedFileRange, openCsvFile } from './csv-feed.js';
import { decodeIds, type IdBatch } from './csv-ids.js';
import type { PartReadOptions, PartWorkerData } from './csv-part-worker.js';
import {
  type CsvPart,
  CsvTableBuilder,
  type ReadCsvOptions,
  type ReadCsvResult,
} from './csv-table-builder.js';

export type { CsvRowError, ReadCsvOptions, ReadCsvResult } from './csv-table-builder.js';

/**
 * Share of the file the calling thread parses: it also makes every id string of the worker's part (strings
 * cannot cross threads) and merges, so it takes less than half; but from TypeScript sources (tsx) the
 * worker first spends ≈ 0.5 s loading tsx, so there the calling thread takes half.
 */
const CALLER_SHARE_COMPILED = 0.42;
const CALLER_SHARE_SOURCES = 0.5;
/** About 108 bytes per Train.csv row: preallocate a little above the final size, trim once at the end. */
const BYTES_PER_ROW_HINT = 90;
/**
 * Files from this size on are read on two threads by default, when the machine has two cores: the
 * worker's start-up (tens of ms compiled) is repaid many times over (2.15M rows: 2.6 s → 2.1 s).
 */
const TWO_THREADS_FROM_BYTES = 64 * 1024 * 1024;

/**
 * Reads a CSV file into a columnar table, streaming (memory ≈ the columns, not the file). O(bytes).
 * Throws ChurnwatchError CW_DATA_CSV_HEADER / CW_DATA_CSV_ROW / CW_DATA_CSV_EMPTY naming file, row, line
 * and column; a missing file gives CW_DATA_CSV_NOT_FOUND.
 * @example (await readCsvTable('data/train.csv')).table.rowCount // 2154048
 */
export async function readCsvTable(path: string, options: ReadCsvOptions = {}): Promise<ReadCsvResult> {
  const handle = await openCsvFile(path);
  try {
    const { size } = await handle.stat();
    const builder = new CsvTableBuilder(path, options, Math.ceil(size / BYTES_PER_ROW_HINT));
    const threads =
      options.threads ?? (size >= TWO_THREADS_FROM_BYTES && availableParallelism() >= 2 ? 2 : 1);
    if (threads >= 2 && options.maxRows === undefined) {
      const share = partWorkerScript().eval ? CALLER_SHARE_SOURCES : CALLER_SHARE_COMPILED;
      const split = await rowBoundaryAfter(handle, Math.floor(size * share), size);
      if (split > 0) return await readInTwoParts(handle, builder, path, size, split, options);
    }
    let bytesRead = 0;
    await feedFileRange(handle, builder, {
      from: 0,
      to: Number.POSITIVE_INFINITY,
      onChunk: (bytes) => {
        bytesRead += bytes;
        options.onProgress?.(builder.rowsRead, bytesRead);
      },
    });
    return builder.finish();
  } finally {
    await handle.close();
  }
}

/** The offset just after the first LF at or after `from`, or -1 when there is none before the end. */
async function rowBoundaryAfter(
  handle: Awaited<ReturnType<typeof open>>,
  from: number,
  size: number,
): Promise<number> {
  const probe = Buffer.allocUnsafe(1 << 16);
  for (let offset = from; offset < size; ) {
    const { bytesRead } = await handle.read(probe, 0, probe.length, offset);
    if (bytesRead === 0) break;
    const lf = probe.subarray(0, bytesRead).indexOf(0x0a);
    if (lf >= 0) return offset + lf + 1 < size ? offset + lf + 1 : -1;
    offset += bytesRead;
  }
  return -1;
}

/**
 * The calling thread parses [0, split) while a worker parses [split, end); the worker's rows are then
 * appended. `split` follows a line break, which is a row boundary unless it sits inside a quoted field:
 * the calling thread knows, because its own parse must then end exactly at `split`. If it does not, the
 * worker's result is dropped and the calling thread reads on from where it stopped: never a wrong table.
 */
async function readInTwoParts(
  handle: Awaited<ReturnType<typeof open>>,
  builder: CsvTableBuilder,
  path: string,
  size: number,
  split: number,
  options: ReadCsvOptions,
): Promise<ReadCsvResult> {
  const progress = new Float64Array(new SharedArrayBuffer(16));
  const workerData: PartWorkerData = {
    path,
    from: split,
    options: partOptions(options),
    capacity: Math.ceil((size - split) / BYTES_PER_ROW_HINT),
    progress,
  };
  const { script, eval: isEval } = partWorkerScript();
  const worker = new Worker(script, { eval: isEval, workerData });
  // The worker's ids arrive in batches while it parses; their strings are made here between chunks.
  const partIds: string[] = [];
  const partDone = new Promise<CsvPart>((resolve, reject) => {
    worker.on('message', (message: { ids?: IdBatch; part?: CsvPart }) => {
      if (message.ids !== undefined) decodeIds(message.ids, partIds);
      else if (message.part !== undefined) resolve(message.part);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the CSV part worker exited with code ${code}`)));
  });
  // Awaited only when the split holds; a failure is never left unhandled.
  partDone.catch(() => {});
  let headerSent = false;
  const sendHeader = () => {
    const header = builder.headerNames;
    if (!headerSent && header !== undefined) {
      worker.postMessage(header);
      headerSent = true;
    }
  };
  try {
    let bytesRead = 0;
    const onChunk = (bytes: number) => {
      sendHeader();
      bytesRead += bytes;
      options.onProgress?.(builder.rowsRead + progress[0]!, bytesRead + progress[1]!);
    };
    const rest = await feedFileRange(handle, builder, { from: 0, to: split, onChunk });
    if (rest.length === 0 && headerSent) {
      builder.appendPart(await partDone, partIds);
      options.onProgress?.(builder.rowsRead, size);
    } else {
      // The split fell inside a quoted field: finish here.
      await worker.terminate();
      await feedFileRange(handle, builder, {
        from: split,
        to: Number.POSITIVE_INFINITY,
        carry: rest,
        onChunk: (bytes) => {
          bytesRead += bytes;
          options.onProgress?.(builder.rowsRead, bytesRead);
        },
      });
    }
    return builder.finish();
  } finally {
    await worker.terminate();
  }
}

/** The options without the ones that are not data (a callback cannot cross to a thread). */
function partOptions(options: ReadCsvOptions): PartReadOptions {
  const { threads: _t, maxRows: _r, onProgress: _p, ...rest } = options;
  return rest;
}

function partWorkerScript(): { script: string | URL; eval: boolean } {
  return workerScript(import.meta.url, 'csv-part-worker');
}

/** Parses CSV text already in memory (small inputs, tests). Same rules and errors as readCsvTable. */
export function parseCsvText(text: string, name: string, options: ReadCsvOptions = {}): ReadCsvResult {
  const buf = Buffer.from(text, 'utf8');
  const builder = new CsvTableBuilder(name, options, 1024);
  builder.push(buf, 0, buf.length, true);
  options.onProgress?.(builder.rowsRead, buf.length);
  return builder.finish();
}
