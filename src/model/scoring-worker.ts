/**
 * A batch-scoring thread (parallel-scoring.ts). Each job message carries the bin-space forest and
 * SharedArrayBuffer-backed columns, output and a chunk counter; the worker takes chunks of rows from
 * the counter until none are left (so a busy core simply takes fewer), then answers with the job id.
 */
import { parentPort } from 'node:worker_threads';
import { type BinnedForest, type ScoringColumn, scoreBinnedRows } from './binned-scoring.js';

export interface ScoringJob {
  readonly id: number;
  readonly forest: BinnedForest;
  readonly columns: readonly ScoringColumn[];
  readonly out: Float64Array;
  /** [0]: the next row to take. */
  readonly counter: Int32Array;
  readonly rows: number;
  readonly chunk: number;
}

/** Takes chunks of rows from the shared counter and scores them until the table is done. */
export function drainScoringJob(job: ScoringJob): void {
  for (;;) {
    const start = Atomics.add(job.counter, 0, job.chunk);
    if (start >= job.rows) return;
    scoreBinnedRows(job.forest, job.columns, start, Math.min(job.rows, start + job.chunk), job.out);
  }
}

parentPort?.on('message', (job: ScoringJob) => {
  try {
    drainScoringJob(job);
    parentPort?.postMessage({ id: job.id });
  } catch (error) {
    parentPort?.postMessage({ id: job.id, error: (error as Error).message });
  }
});
parentPort?.postMessage('ready');
