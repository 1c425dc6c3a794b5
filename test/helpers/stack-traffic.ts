import { CATEGORICAL_FEATURES, NUMERIC_FEATURES } from '../../src/data/customer-schema.js';
import { generateCustomerRows, type PeriodShift } from '../../src/data/synthetic.js';

export interface TrafficOptions {
  readonly rows: number;
  readonly seed: number;
  readonly shift?: PeriodShift;
  /** Hex prefix of the user ids, so that runs never share a user. */
  readonly idPrefix: string;
  /** Records per POST /predict (and per POST /feedback). */
  readonly batchSize: number;
  /** Pause between batches, so that the counters grow over several scrapes rather than in one step. */
  readonly pauseMs: number;
  /** Send the label of every prediction except each `skipLabelEvery`-th (e.g. 5: 80 % labelled). */
  readonly skipLabelEvery: number;
}

export interface TrafficResult {
  readonly predictions: number;
  readonly churnPredicted: number;
  readonly feedback: number;
  readonly joined: number;
}

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/**
 * Sends synthetic customers (optionally shifted) to a running API as batched predictions, then their true
 * labels as feedback by prediction_id, the way a client with delayed labels would.
 */
export async function sendTraffic(apiUrl: string, o: TrafficOptions): Promise<TrafficResult> {
  const rows = [
    ...generateCustomerRows({
      rows: o.rows,
      seed: o.seed,
      idPrefix: o.idPrefix,
      ...(o.shift ? { shift: o.shift } : {}),
    }),
  ];
  let predictions = 0;
  let churnPredicted = 0;
  let feedback = 0;
  let joined = 0;
  for (let start = 0; start < rows.length; start += o.batchSize) {
    const batch = rows.slice(start, start + o.batchSize);
    const records = batch.map((row) => {
      const r: Record<string, string | number | null> = { user_id: row.userId };
      for (const f of NUMERIC_FEATURES) r[f] = Number.isNaN(row.numeric[f]) ? null : row.numeric[f];
      for (const f of CATEGORICAL_FEATURES) r[f] = row.categorical[f];
      return r;
    });
    const answer = await post<{ predictions: { prediction_id: string; churn: 0 | 1 }[] }>(
      `${apiUrl}/predict`,
      {
        records,
      },
    );
    predictions += answer.predictions.length;
    const labels: { prediction_id: string; churn: 0 | 1 }[] = [];
    answer.predictions.forEach((p, k) => {
      churnPredicted += p.churn;
      const row = batch[k];
      if (row && (start + k) % o.skipLabelEvery !== 0)
        labels.push({ prediction_id: p.prediction_id, churn: row.churn });
    });
    if (labels.length > 0) {
      const fb = await post<{ results: { status: string }[] }>(`${apiUrl}/feedback`, { records: labels });
      feedback += fb.results.length;
      joined += fb.results.filter((r) => r.status === 'joined').length;
    }
    if (o.pauseMs > 0) await new Promise((r) => setTimeout(r, o.pauseMs));
  }
  return { predictions, churnPredicted, feedback, joined };
}
