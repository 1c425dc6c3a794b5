/**
 * Worker thread entry: parses the part of a CSV file from `from` to its end (csv-reader.ts splits a
 * large file in two at a row boundary) and posts the part's columns back, buffers transferred. It
 * waits for the header, which the calling thread reads and checks first.
 */
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { feedFileRange } from './csv-feed.js';
import type { IdBatch } from './csv-ids.js';
import { CsvTableBuilder, type ReadCsvOptions } from './csv-table-builder.js';

/** The options a part is read with: all but those of the whole file (threads, rows, progress). */
export type PartReadOptions = Omit<ReadCsvOptions, 'threads' | 'maxRows' | 'onProgress'>;

export interface PartWorkerData {
  path: string;
  from: number;
  /** The reading rules; a DatasetSchema is plain data, so it crosses to the worker by structured clone. */
  options: PartReadOptions;
  capacity: number;
  /** [rows parsed, bytes read], updated per chunk for the caller's progress reports. */
  progress: Float64Array;
}

const port = parentPort;
if (port === null) throw new Error('csv-part-worker.ts runs as a worker thread');
const data = workerData as PartWorkerData;

port.once('message', (header: string[]) => {
  void parsePart(header).then(
    (message) => port.postMessage({ part: message.part }, message.transfer),
    (error: unknown) => {
      // Rethrown outside the promise chain so the Worker emits 'error' with it.
      setImmediate(() => {
        throw error;
      });
    },
  );
});

/** The ids of the rows parsed so far go ahead of the columns, as they are made. */
function sendIds(batch: IdBatch | undefined): void {
  if (batch === undefined || batch.ends.length === 0) return;
  port!.postMessage({ ids: batch }, [batch.bytes.buffer as ArrayBuffer, batch.ends.buffer as ArrayBuffer]);
}

async function parsePart(header: string[]) {
  const handle = await open(data.path, 'r');
  try {
    const builder = new CsvTableBuilder(data.path, data.options, data.capacity, true);
    builder.setHeader(header);
    await feedFileRange(handle, builder, {
      from: data.from,
      to: Number.POSITIVE_INFINITY,
      onChunk: (bytes) => {
        data.progress[0] = builder.rowsRead;
        data.progress[1]! += bytes;
        sendIds(builder.takeIdBatch());
      },
    });
    sendIds(builder.takeIdBatch());
    const part = builder.exportPart();
    const transfer: ArrayBuffer[] = [];
    const arrays = [...part.numeric, ...part.codes, part.target];
    for (const array of arrays) if (array) transfer.push(array.buffer as ArrayBuffer);
    return { part, transfer };
  } finally {
    await handle.close();
  }
}
