import { createRng } from '../../src/data/rng.js';

/** NannyML's salary_range and size_of_downpayment categories. */
const SALARY = ['0 - 20K €', '20K - 40K €', '40K - 60K €', '60K+ €'];
const DOWNPAYMENT = ['0%', '10%', '20%', '30%', '40%'];

export interface CarLoanOptions {
  rows: number;
  seed: number;
  /** First row time (ms); rows follow every `stepMs` (default 10 minutes). */
  start: number;
  stepMs?: number;
  /** From this row on, car values rise by 40 % and the model's scores stop matching outcomes. */
  driftFrom?: number;
  /** Name of the id column: NannyML uses `id` (car loan) and `identifier` (other tutorials). */
  idName?: string;
  /** `iso` (NannyML's `2018-01-01 00:00:00.000`), `s` or `ms` epoch numbers. */
  timeFormat?: 'iso' | 's' | 'ms';
}

/**
 * A table shaped like NannyML's synthetic car-loan tutorial data: id, features, `repaid` (0/1 outcome),
 * `timestamp`, the model's `y_pred_proba` (calibrated before `driftFrom`) and `y_pred` (its class at
 * 0.5). Columns in NannyML's order.
 */
export function carLoanCsv(o: CarLoanOptions): string {
  const rng = createRng(o.seed);
  const idName = o.idName ?? 'id';
  const lines = [
    `${idName},car_value,salary_range,debt_to_income_ratio,loan_length,repaid_loan_on_prev_car,size_of_downpayment,driver_tenure,repaid,timestamp,y_pred_proba,y_pred`,
  ];
  const step = o.stepMs ?? 600_000;
  for (let i = 0; i < o.rows; i++) {
    const drifted = o.driftFrom !== undefined && i >= o.driftFrom;
    const carValue = Math.round((drifted ? 1.4 : 1) * (30_000 + 9_000 * rng.normal()));
    const salary = Math.min(3, Math.floor(4 * rng.next()));
    const debt = Math.min(1, Math.max(0, 0.5 + 0.2 * rng.normal()));
    const loanLength = 6 + Math.floor(10 * rng.next());
    const prevRepaid = rng.next() < 0.7;
    const down = Math.floor(5 * rng.next());
    const tenure = Math.max(0, 5 + 2 * rng.normal());
    const logit = 1.5 * (salary - 1.5) - 3 * (debt - 0.5) + (prevRepaid ? 0.8 : -0.8) + 0.3 * (down - 2);
    const p = 1 / (1 + Math.exp(-logit));
    // After the drift the outcome no longer follows the score: realized accuracy falls.
    const repaid = rng.next() < (drifted ? 1 - p : p) ? 1 : 0;
    const t = o.start + i * step;
    const time =
      o.timeFormat === 's'
        ? String(Math.floor(t / 1000))
        : o.timeFormat === 'ms'
          ? String(t)
          : new Date(t).toISOString().replace('T', ' ').replace('Z', '');
    lines.push(
      [
        i + o.seed * 1_000_000,
        carValue,
        `"${SALARY[salary]}"`,
        debt.toFixed(4),
        loanLength,
        prevRepaid ? 'True' : 'False',
        DOWNPAYMENT[down],
        tenure.toFixed(3),
        repaid,
        time,
        p.toFixed(4),
        p >= 0.5 ? 1 : 0,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
