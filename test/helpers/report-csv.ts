import { createRng } from '../../src/data/rng.js';

/** Senegal's regions, the Expresso REGION values: long, hyphenated names that once overlapped in charts. */
const REGIONS = [
  'DAKAR',
  'THIES',
  'SAINT-LOUIS',
  'DIOURBEL',
  'KAOLACK',
  'TAMBACOUNDA',
  'ZIGUINCHOR',
  'LOUGA',
  'FATICK',
  'KOLDA',
  'MATAM',
  'KAFFRINE',
  'SEDHIOU',
  'KEDOUGOU',
];
/** TOP_PACK-like names, longer than any chart label column. */
const PACKS = [
  'On net 200F=Unlimited _call24H',
  'Data:1000F=5GB,7d',
  'All-net 500F=2000F;5d',
  'Mixt 250F=Unlimited_call24H',
  'IVR Echat_Daily_50F',
];

/**
 * A small churn CSV for report tests: `id` (distinct text), `signup` (ISO time), `amount` (normal
 * around 5,000, its mean moved by 50·`shift`), `calls` (stable), `plan` (stable), `region` (part of the
 * rows moved to the rarest regions when `shift` > 0), `pack` (stable, long names), `label` (0/1) and
 * `score` (a probability).
 */
export function reportCsv(rows: number, seed: number, shift: number): string {
  const rng = createRng(seed);
  const lines = ['id,signup,amount,calls,plan,region,pack,label,score'];
  const start = Date.UTC(2024, 0, 1) + seed * 1e9;
  for (let i = 0; i < rows; i++) {
    const amount = (50 * (100 + shift + 15 * rng.normal())).toFixed(2);
    const calls = Math.max(0, Math.round(20 + 5 * rng.normal()));
    const plan = rng.next() < 0.6 ? 'basic' : 'premium';
    // Zipf-like regions; with a shift, 30 % of the rows go to the five rarest.
    const moved = shift > 0 && rng.next() < 0.3;
    const region = moved
      ? REGIONS[REGIONS.length - 1 - Math.floor(rng.next() * 5)]!
      : REGIONS[Math.min(REGIONS.length - 1, Math.floor(REGIONS.length * rng.next() ** 2))]!;
    const pack = PACKS[Math.floor(PACKS.length * rng.next() ** 1.5)]!;
    const score = rng.next();
    const label = rng.next() < score ? 1 : 0;
    const signup = new Date(start + i * 60_000).toISOString();
    lines.push(
      `u${seed}-${i},${signup},${amount},${calls},${plan},${region},"${pack}",${label},${score.toFixed(4)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
