/**
 * A model that lives elsewhere, for the `profile` / `POST /log` tests: its probability is a logistic of
 * two features of the generated table (generic-data.ts), as a Python service's model would give, and
 * its decision is probability ≥ 0.4.
 */
import { categoricalName, type GenericData, genericCsvText, numericName } from './generic-data.js';

/** The external model's decision threshold. */
export const EXTERNAL_THRESHOLD = 0.4;

/** The external model's probability of churn for one record. */
export function externalScore(record: GenericData['records'][number]): number {
  const tenure = record[numericName(0)] as number;
  const contract = record[categoricalName(0)];
  return 1 / (1 + Math.exp(-(1.2 - tenure / 20 + (contract === 'Month-to-month' ? 1 : -0.5))));
}

/** The generated CSV with `proba` (rounded to 6 places) and `pred` (its decision) columns. */
export function scoredCsv(data: GenericData, tamper?: (proba: string, row: number) => string): string {
  const lines = genericCsvText(data).trimEnd().split('\n');
  return `${lines
    .map((line, i) => {
      if (i === 0) return `${line},proba,pred`;
      const p = externalScore(data.records[i - 1]!).toFixed(6);
      return `${line},${tamper ? tamper(p, i) : p},${Number(p) >= EXTERNAL_THRESHOLD ? 1 : 0}`;
    })
    .join('\n')}\n`;
}
