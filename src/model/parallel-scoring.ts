/**
 * Batch scoring on several threads: the calling thread and `threads - 1` workers take chunks of
 * 16,384 rows from a shared counter (Atomics), so a core that other work slows down takes fewer.
 * Inputs and margins live in SharedArrayBuffers; every row is scored by the same code as the
 * synchronous path (binned-scoring.ts), so the result is bit-identical whatever the thread count.
 * Small tables (below `minRows`) are scored on the calling thread: a hand-off would cost more.
 */
import { Worker } from 'node:worker_threads';
import type { ColumnarTable } from '../data/columnar-table.js';
import { workerScript } from '../worker-script.js';
import { type ScoringColumn, scoringColumns } from './binned-scoring.js';
import { calibrate } from './calibration.js';
import type { ChurnModel } from './churn-model.js';
import { binnedForestOf, type ModelParts, modelPartsOf, referenceTableMargins } from './gbdt-churn-model.js';
import { drainScoringJob, type ScoringJob } from './scoring-worker.js';

const CHUNK_ROWS = 16_384;
export const PARALLEL_MIN_ROWS = 50_000;

export interface ScoringPool {
  readonly threads: number;
  /** Raw margins (before calibration) of every row, as tableMargins returns them. */
  margins(parts: ModelParts, table: ColumnarTable): Promise<Float64Array>;
  close(): Promise<void>;
}

export interface ScoringPoolOptions {
  /** Threads including the calling one (default 2). 1 scores on the calling thread only. */
  readonly threads?: number;
  /** Tables with fewer rows are scored on the calling thread (default 50,000). */
  readonly minRows?: number;
  /** Rows a thread takes at a time (default 16,384). */
  readonly chunkRows?: number;
}

function startWorker(): Promise<Worker> {
  const { script, eval: isEval } = workerScript(import.meta.url, 'scoring-worker');
  const worker = new Worker(script, { eval: isEval });
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => fail(new Error(`scoring worker exited with code ${code}`));
    const fail = (error: Error) => {
      worker.off('exit', onExit);
      reject(error);
    };
    // Only our own listeners are removed: Worker keeps internal ones that deliver later messages.
    worker.once('message', () => {
      worker.off('error', fail);
      worker.off('exit', onExit);
      resolve(worker);
    });
    worker.once('error', fail);
    worker.once('exit', onExit);
  });
}

const shared = (bytes: number) => new SharedArrayBuffer(Math.max(1, bytes));

/**
 * Shared input buffers a pool keeps between calls. Fresh shared memory costs a page fault per 4 KB on
 * first touch: copying 654k rows of 13 numeric columns into new buffers took ~36 ms, into reused
 * ones ~6 ms. One call at a time holds them; a concurrent call gets fresh buffers.
 */
class Staging {
  private readonly buffers: SharedArrayBuffer[] = [];
  private next = 0;
  busy = false;

  /** Starts a call: buffers are handed out again from the first. */
  reset(): void {
    this.next = 0;
  }

  allocate(bytes: number): SharedArrayBuffer {
    const i = this.next++;
    const buffer = this.buffers[i];
    if (buffer && buffer.byteLength >= bytes) return buffer;
    this.buffers[i] = shared(bytes);
    return this.buffers[i]!;
  }
}

/** Numeric values copied into shared memory (a memcpy: far cheaper than scoring them). */
function shareColumns(
  columns: readonly ScoringColumn[],
  allocate: (bytes: number) => ArrayBufferLike,
): ScoringColumn[] {
  return columns.map((column) => {
    if (column.kind === 'bins' || column.values.buffer instanceof SharedArrayBuffer) return column;
    const values = new Float64Array(allocate(column.values.byteLength), 0, column.values.length);
    values.set(column.values);
    return { kind: 'numeric', values };
  });
}

/** Starts `threads - 1` scoring workers; close() ends them. */
export async function createScoringPool(options: ScoringPoolOptions = {}): Promise<ScoringPool> {
  const threads = Math.max(1, Math.floor(options.threads ?? 2));
  const minRows = options.minRows ?? PARALLEL_MIN_ROWS;
  const chunkRows = Math.max(1, Math.floor(options.chunkRows ?? CHUNK_ROWS));
  const workers = await Promise.all(Array.from({ length: threads - 1 }, startWorker));
  let nextId = 0;
  const staging = new Staging();

  const runOn = (worker: Worker, job: ScoringJob) =>
    new Promise<void>((resolve, reject) => {
      const onMessage = (message: { id: number; error?: string }) => {
        if (message.id !== job.id) return;
        cleanup();
        if (message.error) reject(new Error(`scoring worker failed: ${message.error}`));
        else resolve();
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`scoring worker exited with code ${code}`));
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(job);
    });

  return {
    threads,
    async margins(parts, table) {
      const forest = binnedForestOf(parts);
      const n = table.rowCount;
      if (!forest) return referenceTableMargins(parts, table);
      const parallel = workers.length > 0 && n >= minRows;
      const reuse = parallel && !staging.busy;
      if (reuse) {
        staging.busy = true;
        staging.reset();
      }
      const allocate = reuse ? (bytes: number) => staging.allocate(bytes) : shared;
      const columns = parallel
        ? shareColumns(scoringColumns(parts.encoders, table, allocate), allocate)
        : scoringColumns(parts.encoders, table);
      const out = new Float64Array(parallel ? shared(n * 8) : new ArrayBuffer(n * 8));
      const job: ScoringJob = {
        id: nextId++,
        forest,
        columns,
        out,
        counter: new Int32Array(shared(4)),
        rows: n,
        chunk: parallel ? chunkRows : Math.max(1, n),
      };
      const done = parallel ? workers.map((w) => runOn(w, job)) : [];
      let failure: unknown;
      try {
        drainScoringJob(job); // the calling thread works too
      } catch (error) {
        failure = error;
      }
      // The staging buffers are free again only when no worker reads them any more.
      const settled = await Promise.allSettled(done);
      if (reuse) staging.busy = false;
      if (failure !== undefined) throw failure;
      for (const result of settled) if (result.status === 'rejected') throw result.reason;
      return out;
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * Calibrated probabilities of every row of `table`, like `model.scoreTable(table)` and bit-identical
 * to it, on `threads` threads (default 2) for tables of at least `minRows` rows. Pass a `pool` to
 * reuse its workers across calls; otherwise one is started and closed here (tens of milliseconds).
 * A model that is not a churnwatch GBDT is scored with its own scoreTable.
 */
export async function scoreTableParallel(
  model: ChurnModel,
  table: ColumnarTable,
  options: ScoringPoolOptions & { readonly pool?: ScoringPool } = {},
): Promise<Float64Array> {
  const parts = modelPartsOf(model);
  if (!parts) return model.scoreTable(table);
  const threads = options.threads ?? 2;
  const small = table.rowCount < (options.minRows ?? PARALLEL_MIN_ROWS) || threads <= 1;
  if (!options.pool && small) return model.scoreTable(table);
  const pool = options.pool ?? (await createScoringPool(options));
  try {
    const scores = await pool.margins(parts, table);
    for (let i = 0; i < scores.length; i++) scores[i] = calibrate(parts.calibrator, scores[i]!);
    return scores;
  } finally {
    if (!options.pool) await pool.close();
  }
}
