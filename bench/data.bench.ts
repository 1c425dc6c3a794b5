/**
 * Data-layer benchmark.
 * 1. Generate and write the full-size synthetic Train.csv (2,154,048 rows): seconds and rows/s.
 * 2. Read it back into the columnar table in a child process that does nothing else, so its peak RSS
 *    (process.resourceUsage().maxRSS) is the reader's: goal ≥ 1M rows/s and ≤ 1.5 GB.
 * 3. Baseline in the same run: a naive reader (readline + String.split + Number, values pushed into
 *    arrays), the obvious way to write it; the speed goal is also stated as a ratio against it.
 * Run: node --import tsx bench/data.bench.ts [rows]. The machine may be shared: figures are noisy.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readCsvTable } from '../src/data/csv-reader.js';
import { writeSyntheticCsv } from '../src/data/synthetic.js';

const here = fileURLToPath(import.meta.url);
const resultsDir = join(dirname(here), 'results');

interface ReadFigures {
  rows: number;
  seconds: number;
  maxRssMb: number;
}

async function readOnly(mode: string, path: string): Promise<void> {
  const t0 = performance.now();
  let rows = 0;
  if (mode === 'columnar') {
    rows = (await readCsvTable(path)).table.rowCount;
  } else {
    // The naive baseline: one string per line, split on commas (quoted commas would break it; the
    // bench file has some, which only shifts a few values), Number() per numeric field.
    const columns: (number | string)[][] = Array.from({ length: 19 }, () => []);
    let header = true;
    for await (const line of createInterface({
      input: createReadStream(path),
      crlfDelay: Number.POSITIVE_INFINITY,
    })) {
      if (header) {
        header = false;
        continue;
      }
      const fields = line.split(',');
      for (let f = 0; f < 19; f++) {
        const v = fields[f] ?? '';
        const n = v === '' ? Number.NaN : Number(v);
        columns[f]!.push(Number.isNaN(n) ? v : n);
      }
      rows++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const figures: ReadFigures = { rows, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function readInChild(mode: string, path: string): ReadFigures {
  const result = spawnSync(process.execPath, ['--import', 'tsx', here, '--read-only', mode, path], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (result.status !== 0) throw new Error(`${mode} reader failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as ReadFigures;
}

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 2_154_048);
  const dir = join(tmpdir(), `churnwatch-data-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'train.csv');
  try {
    const t0 = performance.now();
    const written = await writeSyntheticCsv(path, { rows, seed: 42 });
    const generateSeconds = (performance.now() - t0) / 1000;
    const columnar = readInChild('columnar', path);
    const naive = readInChild('naive', path);
    const table = [
      ['step', 'rows', 'seconds', 'rows/s', 'peak RSS MB', 'goal'],
      [
        'generate + write',
        written.rows,
        generateSeconds.toFixed(1),
        Math.round(written.rows / generateSeconds),
        '',
        '',
      ],
      [
        'read (columnar)',
        columnar.rows,
        columnar.seconds.toFixed(2),
        Math.round(columnar.rows / columnar.seconds),
        columnar.maxRssMb.toFixed(0),
        '≥ 1,000,000 rows/s, ≤ 1,536 MB',
      ],
      [
        'read (naive baseline)',
        naive.rows,
        naive.seconds.toFixed(2),
        Math.round(naive.rows / naive.seconds),
        naive.maxRssMb.toFixed(0),
        '',
      ],
    ];
    for (const line of table) process.stdout.write(`${line.map((c) => String(c).padEnd(22)).join('')}\n`);
    const speedup = naive.seconds / columnar.seconds;
    process.stdout.write(
      `columnar reader is ${speedup.toFixed(1)}× the naive one; file ${(written.bytes / 1e6).toFixed(0)} MB\n`,
    );
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(
      join(resultsDir, 'data.json'),
      `${JSON.stringify(
        {
          rows: written.rows,
          bytes: written.bytes,
          churnRate: written.churnRate,
          generate: { seconds: generateSeconds, rowsPerSecond: written.rows / generateSeconds },
          read: { ...columnar, rowsPerSecond: columnar.rows / columnar.seconds },
          naiveRead: { ...naive, rowsPerSecond: naive.rows / naive.seconds },
          speedupOverNaive: speedup,
          goals: { readRowsPerSecond: 1_000_000, readMaxRssMb: 1536 },
          met: { speed: columnar.rows / columnar.seconds >= 1_000_000, memory: columnar.maxRssMb <= 1536 },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--read-only') await readOnly(process.argv[3]!, process.argv[4]!);
else await main();
