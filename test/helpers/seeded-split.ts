/**
 * A fixed, seeded 80/20 split of a CSV into two files (header copied to both): rows shuffled by the
 * project's RNG, so the Telco test and bench/telco-auc.bench.ts hold out the same rows on every run.
 * For files without line breaks inside quoted fields (the Telco file has no quotes at all).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRng } from '../../src/data/rng.js';
import { shuffledIndices } from '../../src/model/sampling.js';

export const TELCO_SPLIT = { trainShare: 0.8, seed: 2024 } as const;

export function writeSeededSplit(
  input: string,
  trainOut: string,
  holdoutOut: string,
  options: { readonly trainShare: number; readonly seed: number } = TELCO_SPLIT,
): { readonly train: number; readonly holdout: number } {
  const [header, ...rows] = readFileSync(input, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line !== '');
  const order = shuffledIndices(rows.length, createRng(options.seed, 1));
  const cut = Math.round(rows.length * options.trainShare);
  const part = (from: number, to: number) =>
    `${[header!, ...Array.from(order.subarray(from, to), (i) => rows[i]!)].join('\n')}\n`;
  writeFileSync(trainOut, part(0, cut));
  writeFileSync(holdoutOut, part(cut, rows.length));
  return { train: cut, holdout: rows.length - cut };
}
