/**
 * Feeds a byte range of an open file to a CsvTableBuilder (or any ChunkConsumer) in large chunks. A row cut by a chunk end is
 * carried into the next chunk; a row longer than the buffer grows it.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { cliCommand } from '../cli-command.js';
import { ChurnwatchError } from '../errors.js';

/** What the chunks are fed to: a CsvTableBuilder, or schema inference's SchemaInferrer. */
export interface ChunkConsumer {
  /** Parses the rows of buf[start, end); returns the offset of the first byte not consumed. */
  push(buf: Buffer, start: number, end: number, final: boolean): number;
  /** True when it wants no more bytes. */
  readonly finished: boolean;
}

/** Opens a CSV file for reading; CW_DATA_CSV_NOT_FOUND naming the path when it cannot be opened. */
export async function openCsvFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ChurnwatchError(
      'CW_DATA_CSV_NOT_FOUND',
      `${path}: cannot open the file (${code ?? (error as Error).message})`,
      {
        hint: `check the path; ${cliCommand('data download')} fetches Train.csv, ${cliCommand('data generate --rows 100000')} writes a synthetic one`,
        cause: error,
      },
    );
  }
}

/** 4 MB: few read calls and few carried-over partial rows, still small next to the columns. */
export const CHUNK_BYTES = 4 << 20;

export interface FeedRange {
  /** First byte to read. */
  from: number;
  /** Stop before this byte; Infinity reads to the end of the file, which then ends the last row. */
  to: number;
  /** Bytes of an unfinished row from an earlier feed, parsed first. */
  carry?: Buffer;
  onChunk?: (bytes: number) => void;
}

/**
 * Parses the bytes of the range. Returns the bytes not consumed: empty when the range ended at a row
 * boundary (or at the end of the file), else the start of a row that continues after `to`.
 */
export async function feedFileRange(
  handle: FileHandle,
  builder: ChunkConsumer,
  range: FeedRange,
): Promise<Buffer> {
  const carry = range.carry ?? Buffer.alloc(0);
  let buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, carry.length * 2));
  carry.copy(buf);
  let filled = carry.length;
  let offset = range.from;
  const toEnd = range.to === Number.POSITIVE_INFINITY;
  for (;;) {
    if (filled === buf.length) {
      // One row longer than the buffer: grow it.
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, filled);
      buf = bigger;
    }
    const want = Math.min(buf.length - filled, range.to - offset);
    const n = want > 0 ? (await handle.read(buf, filled, want, offset)).bytesRead : 0;
    offset += n;
    const end = filled + n;
    if (n === 0 && !toEnd) return buf.subarray(0, filled);
    const final = n === 0;
    const consumed = builder.push(buf, 0, end, final);
    range.onChunk?.(n);
    if (final || builder.finished) return Buffer.alloc(0);
    buf.copy(buf, 0, consumed, end);
    filled = end - consumed;
  }
}
