/**
 * A histogram-building thread. It shares the training buffers with the trainer (SharedArrayBuffer)
 * and waits on an Atomics control word, so a job costs microseconds rather than a message round trip.
 * Control words: [0] job sequence, [1] start, [2] end, [3] feature count, [4] done counter, [5] stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { accumulateHistogram } from './histogram.js';

interface WorkerData {
  readonly control: Int32Array;
  readonly features: Int32Array;
  readonly out: Float64Array;
  readonly bins: Uint8Array;
  readonly rows: number;
  readonly index: Uint32Array;
  readonly gradients: Int32Array;
  readonly hessians: Int32Array;
  readonly offsets: Int32Array;
  readonly slot: number;
}

const data = workerData as WorkerData;
const control = data.control;
const scratch = new Int32Array(2 * data.rows + 2);
let seen = Atomics.load(control, 0);
parentPort?.postMessage('ready');
for (;;) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  if (Atomics.load(control, 5) === 1) break;
  // Each worker's range sits after the main thread's: slot i of (workers + 1) equal parts.
  const start = Atomics.load(control, 1);
  const end = Atomics.load(control, 2);
  const parts = Atomics.load(control, 6);
  const size = Math.ceil((end - start) / parts);
  const from = Math.min(end, start + size * data.slot);
  const to = Math.min(end, from + size);
  data.out.fill(0);
  accumulateHistogram(data, from, to, data.features, Atomics.load(control, 3), data.out, scratch);
  Atomics.add(control, 4, 1);
  Atomics.notify(control, 4);
}
