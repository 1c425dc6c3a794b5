/**
 * Splits a CSV into a training part (the first rows) and a held-out part (the rest), as the original
 * project does: row order is kept, the header is copied to both, nothing is parsed beyond finding row
 * boundaries (line breaks outside double quotes), and both outputs are written atomically.
 */
import { open } from 'node:fs/promises';
import { ChurnwatchError } from '../errors.js';
import { type TextSink, writeFileAtomically } from './atomic-file.js';

export interface SplitOptions {
  input: string;
  trainOut: string;
  holdoutOut: string;
  /** Rows for training (the first N data rows). Exactly one of trainRows / trainFraction. */
  trainRows?: number;
  /** Share of rows for training, 0 < F < 1 (rounded to the nearest row; needs one counting pass). */
  trainFraction?: number;
  onProgress?: (rowsDone: number) => void;
}

export interface SplitResult {
  totalRows: number;
  trainRows: number;
  holdoutRows: number;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const CHUNK_BYTES = 1 << 20;

/**
 * Calls `onRow(buf, start, end)` for every row (end excludes the line break; the header is row 0),
 * skipping blank lines. Each chunk is a fresh Buffer, so callers may keep subarrays (e.g. hand them to a
 * write stream). O(bytes).
 */
async function forEachRow(
  path: string,
  onRow: (buf: Buffer, start: number, end: number, nextStart: number) => Promise<void> | void,
  onChunkEnd?: (buf: Buffer) => Promise<void> | void,
): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new ChurnwatchError(
      'CW_DATA_CSV_NOT_FOUND',
      `${path}: cannot open the file (${(error as NodeJS.ErrnoException).code})`,
      {
        hint: 'check the --data path',
        cause: error,
      },
    );
  }
  try {
    let leftover: Buffer = Buffer.alloc(0);
    let inQuotes = false;
    let scanFrom = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null);
      const final = bytesRead === 0;
      const buf =
        leftover.length > 0
          ? Buffer.concat([leftover, chunk.subarray(0, bytesRead)])
          : chunk.subarray(0, bytesRead);
      let rowStart = 0;
      let i = scanFrom;
      for (; i < buf.length; i++) {
        const b = buf[i];
        if (b === QUOTE) inQuotes = !inQuotes;
        else if (b === LF && !inQuotes) {
          const end = i > rowStart && buf[i - 1] === CR ? i - 1 : i;
          if (end > rowStart) await onRow(buf, rowStart, end, i + 1);
          rowStart = i + 1;
        }
      }
      if (final) {
        let end = buf.length;
        if (end > rowStart && buf[end - 1] === CR) end--;
        if (end > rowStart) await onRow(buf, rowStart, end, buf.length);
        await onChunkEnd?.(buf);
        return;
      }
      await onChunkEnd?.(buf);
      leftover = buf.subarray(rowStart);
      // Resume the scan after what was already scanned (quote state carries over).
      scanFrom = buf.length - rowStart;
    }
  } finally {
    await handle.close();
  }
}

/** Counts the data rows of a CSV (rows after the header, blank lines ignored). O(bytes), O(1) memory. */
export async function countCsvRows(path: string): Promise<number> {
  let rows = -1;
  await forEachRow(path, () => {
    rows++;
  });
  return Math.max(0, rows);
}

/**
 * Splits `input` into `trainOut` (header + first N rows) and `holdoutOut` (header + the rest).
 * Throws ChurnwatchError CW_DATA_SPLIT_OPTIONS for bad sizes, CW_DATA_SPLIT_TOO_FEW_ROWS when the file
 * has fewer rows than asked for training, CW_DATA_CSV_EMPTY for an empty file. Outputs are untouched on error.
 */
export async function splitCsvFile(options: SplitOptions): Promise<SplitResult> {
  const { trainRows, trainFraction } = options;
  if ((trainRows === undefined) === (trainFraction === undefined)) {
    throw new ChurnwatchError(
      'CW_DATA_SPLIT_OPTIONS',
      'give exactly one of --train-rows and --train-fraction',
      {
        hint: 'e.g. --train-rows 1500000 or --train-fraction 0.7',
      },
    );
  }
  if (trainRows !== undefined && !(Number.isSafeInteger(trainRows) && trainRows >= 0)) {
    throw new ChurnwatchError(
      'CW_DATA_SPLIT_OPTIONS',
      `--train-rows must be a non-negative integer, got ${trainRows}`,
      {
        hint: 'e.g. --train-rows 1500000',
      },
    );
  }
  if (trainFraction !== undefined && !(trainFraction > 0 && trainFraction < 1)) {
    throw new ChurnwatchError(
      'CW_DATA_SPLIT_OPTIONS',
      `--train-fraction must be between 0 and 1 (exclusive), got ${trainFraction}`,
      {
        hint: 'e.g. --train-fraction 0.7',
      },
    );
  }
  const wanted = trainRows ?? Math.round((await countCsvRows(options.input)) * trainFraction!);
  let row = -1;
  let train = 0;
  let holdout = 0;
  await writeFileAtomically(options.trainOut, (trainSink) =>
    writeFileAtomically(options.holdoutOut, async (holdoutSink) => {
      // Contiguous rows bound for one file are written as one slice of the chunk.
      let segment: { sink: TextSink; buf: Buffer; start: number; end: number } | undefined;
      const flush = async () => {
        if (!segment) return;
        await segment.sink.writeBytes(segment.buf.subarray(segment.start, segment.end));
        segment = undefined;
      };
      const emit = async (sink: TextSink, buf: Buffer, start: number, end: number, nextStart: number) => {
        const terminated = nextStart > end && buf[nextStart - 1] === LF;
        if (segment && segment.sink === sink && segment.buf === buf && segment.end === start && terminated) {
          segment.end = nextStart;
          return;
        }
        await flush();
        if (terminated) segment = { sink, buf, start, end: nextStart };
        else {
          await sink.writeBytes(buf.subarray(start, end));
          await sink.writeBytes(Buffer.from('\n'));
        }
      };
      await forEachRow(
        options.input,
        async (buf, start, end, nextStart) => {
          row++;
          if (row === 0) {
            const header = Buffer.concat([buf.subarray(start, end), Buffer.from('\n')]);
            await trainSink.writeBytes(header);
            await holdoutSink.writeBytes(Buffer.from(header));
            return;
          }
          if (train < wanted) {
            train++;
            await emit(trainSink, buf, start, end, nextStart);
          } else {
            holdout++;
            await emit(holdoutSink, buf, start, end, nextStart);
          }
          if (row % 100_000 === 0) options.onProgress?.(row);
        },
        flush,
      );
      await flush();
      if (row < 0) {
        throw new ChurnwatchError(
          'CW_DATA_CSV_EMPTY',
          `${options.input}: the file is empty (no header line)`,
          {
            hint: 'check the --data path',
          },
        );
      }
      if (train < wanted) {
        throw new ChurnwatchError(
          'CW_DATA_SPLIT_TOO_FEW_ROWS',
          `${options.input} has ${train} data rows, fewer than the ${wanted} asked for training`,
          { hint: 'lower --train-rows, or use --train-fraction' },
        );
      }
    }),
  );
  options.onProgress?.(train + holdout);
  return { totalRows: train + holdout, trainRows: train, holdoutRows: holdout };
}
