/**
 * Data-layer benchmark.
 * 1. Generate and write the full-size synthetic Train.csv (2,154,048 rows): seconds and rows/s.
 * 2. Read it back into the columnar table in a child process that does nothing else, so its peak RSS
 *    (process.resourceUsage().maxRSS) is the reader's: goal ≥ 1M rows/s and ≤ 1.5 GB.
 *    Read three times each: one thread and two threads (the default for a file this size; the second
 *    half on a worker thread); best and median are reported.
 * 3. Baseline in the same run: a naive reader (readline + String.split + Number, values pushed into
 *    arrays), the obvious way to write it; the speed goal is also stated as a ratio against it.
 * Run: node --import tsx bench/data.bench.ts [rows] [--csv <path>]. With --csv the file at <path> is
 * reused when it exists (else written there and kept), to skip the minute of generation.
 * The machine may be shared: figures are noisy, which is why best and median are both shown.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  if (mode === 'columnar' || mode === 'columnar-2') {
    rows = (await readCsvTable(path, mode === 'columnar-2' ? { threads: 2 } : { threads: 1 })).table.rowCount;
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

interface Summary {
  rows: number;
  runs: number;
  bestSeconds: number;
  medianSeconds: number;
  bestRowsPerSecond: number;
  medianRowsPerSecond: number;
  maxRssMb: number;
}

function summarise(mode: string, path: string, runs: number): Summary {
  const all = Array.from({ length: runs }, () => readInChild(mode, path));
  const seconds = all.map((r) => r.seconds).sort((a, b) => a - b);
  const rows = all[0]!.rows;
  const best = seconds[0]!;
  const median = seconds[Math.floor((seconds.length - 1) / 2)]!;
  return {
    rows,
    runs,
    bestSeconds: best,
    medianSeconds: median,
    bestRowsPerSecond: rows / best,
    medianRowsPerSecond: rows / median,
    maxRssMb: Math.max(...all.map((r) => r.maxRssMb)),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const csvAt = args.indexOf('--csv');
  const keep = csvAt >= 0 ? args[csvAt + 1] : undefined;
  if (csvAt >= 0) args.splice(csvAt, 2);
  const rows = Number(args[0] ?? 2_154_048);
  const dir = join(tmpdir(), `churnwatch-data-bench-${process.pid}`);
  const path = keep ?? join(dir, 'train.csv');
  mkdirSync(dirname(path), { recursive: true });
  try {
    let generate: { rows: number; bytes: number; churnRate?: number; seconds?: number };
    if (keep !== undefined && existsSync(keep)) {
      generate = { rows, bytes: statSync(keep).size };
    } else {
      const t0 = performance.now();
      const written = await writeSyntheticCsv(path, { rows, seed: 42 });
      generate = { ...written, seconds: (performance.now() - t0) / 1000 };
    }
    const columnar = summarise('columnar', path, 3);
    const twoThreads = summarise('columnar-2', path, 3);
    const naive = summarise('naive', path, 2);
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const table = [
      ['step', 'rows', 'best s', 'best rows/s', 'median rows/s', 'peak RSS MB', 'goal'],
      [
        generate.seconds === undefined ? 'generate (reused file)' : 'generate + write',
        generate.rows,
        generate.seconds?.toFixed(1) ?? '',
        generate.seconds ? fmt(generate.rows / generate.seconds) : '',
        '',
        '',
        '',
      ],
      ...(
        [
          ['read (columnar, 1 thread)', columnar, ''],
          ['read (columnar, 2 threads: default)', twoThreads, '≥ 1,000,000 rows/s, ≤ 1,536 MB'],
          ['read (naive baseline)', naive, ''],
        ] as const
      ).map(([name, r, goal]) => [
        name,
        r.rows,
        r.bestSeconds.toFixed(2),
        fmt(r.bestRowsPerSecond),
        fmt(r.medianRowsPerSecond),
        r.maxRssMb.toFixed(0),
        goal,
      ]),
    ];
    for (const line of table) process.stdout.write(`${line.map((c) => String(c).padEnd(26)).join('')}\n`);
    const speedup = naive.medianSeconds / columnar.medianSeconds;
    process.stdout.write(
      `columnar reader (median) is ${speedup.toFixed(1)}× the naive one (best ${(naive.bestSeconds / columnar.bestSeconds).toFixed(1)}×), ${(naive.medianSeconds / twoThreads.medianSeconds).toFixed(1)}× with threads: 2; file ${(generate.bytes / 1e6).toFixed(0)} MB\n`,
    );
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(
      join(resultsDir, 'data.json'),
      `${JSON.stringify(
        {
          rows: generate.rows,
          bytes: generate.bytes,
          churnRate: generate.churnRate,
          generate:
            generate.seconds === undefined
              ? undefined
              : { seconds: generate.seconds, rowsPerSecond: generate.rows / generate.seconds },
          read: columnar,
          readTwoThreads: twoThreads,
          naiveRead: naive,
          speedupOverNaive: speedup,
          goals: { readRowsPerSecond: 1_000_000, readMaxRssMb: 1536 },
          met: { speed: columnar.bestRowsPerSecond >= 1_000_000, memory: columnar.maxRssMb <= 1536 },
          note: 'shared 2-core machine: best and median of 3 runs (naive: 2)',
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    if (keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--read-only') await readOnly(process.argv[3]!, process.argv[4]!);
else await main();
