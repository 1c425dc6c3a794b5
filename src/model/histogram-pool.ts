/**
 * Builds a node's histogram on several threads: the node's row range is cut into equal parts, the
 * calling thread does the first part and each worker one more, then the parts are added. Because
 * histogram cells are exact integer sums (histogram.ts), the result is identical for any thread count.
 * The calling thread blocks in Atomics.wait (allowed in Node's main thread) while workers finish.
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from '../worker-script.js';
import { accumulateHistogram, type HistogramInputs } from './histogram.js';

/** Below this many rows a node is cheaper to do on one thread than to hand out. */
const PARALLEL_MIN_ROWS = 20_000;

export interface HistogramPool {
  build(start: number, end: number, featureCount: number, out: Float64Array): void;
  /** Feature list the next builds use (first `featureCount` entries). */
  readonly features: Int32Array;
  close(): Promise<void>;
}

export async function createHistogramPool(
  input: HistogramInputs,
  totalBins: number,
  featureCapacity: number,
  threads: number,
): Promise<HistogramPool> {
  const workers: Worker[] = [];
  const control = new Int32Array(new SharedArrayBuffer(8 * 4));
  const features = new Int32Array(new SharedArrayBuffer(Math.max(1, featureCapacity) * 4));
  const outs: Float64Array[] = [];
  const scratch = new Int32Array(2 * input.rows + 2);
  const { script, eval: isEval } = workerScript(import.meta.url, 'histogram-worker');
  for (let slot = 1; slot < threads; slot++) {
    const out = new Float64Array(new SharedArrayBuffer(totalBins * 2 * 8));
    outs.push(out);
    const worker = new Worker(script, {
      eval: isEval,
      workerData: { ...input, control, features, out, slot },
    });
    workers.push(worker);
  }
  let failure: Error | undefined;
  // Wait until every worker has loaded and is parked on the control word: the trainer then blocks
  // in Atomics.wait, when no event (not even a worker's start-up error) could reach it any more.
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`histogram worker exited with code ${code}`)));
        }),
    ),
  );
  for (const w of workers) {
    w.removeAllListeners();
    w.on('error', (e) => {
      failure = e;
    });
  }

  return {
    features,
    build(start, end, featureCount, out) {
      out.fill(0);
      const parts = workers.length + 1;
      if (workers.length === 0 || end - start < PARALLEL_MIN_ROWS) {
        accumulateHistogram(input, start, end, features, featureCount, out, scratch);
        return;
      }
      if (failure) throw failure;
      Atomics.store(control, 1, start);
      Atomics.store(control, 2, end);
      Atomics.store(control, 3, featureCount);
      Atomics.store(control, 4, 0);
      Atomics.store(control, 6, parts);
      Atomics.add(control, 0, 1);
      Atomics.notify(control, 0);
      const size = Math.ceil((end - start) / parts);
      accumulateHistogram(input, start, Math.min(end, start + size), features, featureCount, out, scratch);
      for (;;) {
        const done = Atomics.load(control, 4);
        if (done === workers.length) break;
        if (failure) throw failure;
        Atomics.wait(control, 4, done, 1000);
      }
      for (const part of outs) for (let i = 0; i < out.length; i++) out[i]! += part[i]!;
    },
    async close() {
      Atomics.store(control, 5, 1);
      Atomics.add(control, 0, 1);
      Atomics.notify(control, 0);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
