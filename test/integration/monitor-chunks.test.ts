/**
 * Chunked analysis over a real SQLite prediction log: chunk boundaries, label coverage and delay, the
 * same numbers as a live window over the same rows, and the `churnwatch monitor analyze` command.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { runMonitorAnalyze } from '../../src/cli/commands/monitor.js';
import { CATEGORICAL_FEATURES, NUMERIC_FEATURES, type RawFeatures } from '../../src/data/customer-schema.js';
import { generateCustomerRows } from '../../src/data/synthetic.js';
import { isChurnwatchError } from '../../src/errors.js';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { loadModel } from '../../src/model/model-io.js';
import type { ChunkSeries } from '../../src/monitor/chunks.js';
import { analyzeWindow } from '../../src/monitor/window-analysis.js';
import { PredictionWindow } from '../../src/monitor/windows.js';
import { openStore } from '../../src/store/open-store.js';
import type { PredictionRecord } from '../../src/store/prediction-store.js';
import { toPredictionRows } from '../../src/store/store-columns.js';
import { repoRoot } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 5, 6); // 06:00 UTC: the first chunk of 1d starts at midnight before it
const PER_DAY = 500;

describe('chunked analysis of the stored log', () => {
  let modelsDir: string;
  let model: ChurnModel;
  let records: PredictionRecord[];
  let labels: (0 | 1)[];

  before(async () => {
    modelsDir = await trainSmallModel();
    model = await loadModel(join(modelsDir, 'latest'));
    const rows = [...generateCustomerRows({ rows: 3 * PER_DAY, seed: 77 })];
    labels = rows.map((r) => r.churn);
    const features = rows.map((r) => {
      const f: RawFeatures = {};
      for (const n of NUMERIC_FEATURES) f[n] = Number.isNaN(r.numeric[n]) ? null : r.numeric[n];
      for (const c of CATEGORICAL_FEATURES) f[c] = r.categorical[c];
      return f;
    });
    const scores = model.scoreRecords(features);
    // Three days, PER_DAY predictions a day, spread over 12 hours.
    records = rows.map((r, i) => ({
      id: `c-${String(i).padStart(5, '0')}`,
      createdAt: START + Math.floor(i / PER_DAY) * DAY + (i % PER_DAY) * 60_000,
      userId: r.userId,
      modelVersion: model.info.version,
      features: features[i]!,
      score: scores[i]!,
      predictedClass: scores[i]! >= model.info.threshold ? 1 : 0,
    }));
  });

  /** Writes the log; labels for i % 3 != 0, observed one hour after the prediction. */
  async function writeLog(dir: string): Promise<string> {
    const url = `sqlite:${join(dir, 'log.db')}`;
    const store = openStore(url);
    await store.migrate();
    await store.insertRows(toPredictionRows(records));
    const feedback = records.flatMap((p, i) =>
      i % 3 === 0
        ? []
        : [
            {
              predictionId: p.id,
              label: labels[i]!,
              observedAt: p.createdAt + 3_600_000,
              receivedAt: p.createdAt + 3_600_000,
            },
          ],
    );
    const outcomes = await store.recordFeedback(feedback);
    assert.ok(outcomes.every((o) => o.status === 'joined'));
    await store.close();
    return url;
  }

  it('cuts daily chunks and agrees with a live window over the same rows', async () => {
    await withTempDir(async (dir) => {
      const url = await writeLog(dir);
      const { series, table } = await runMonitorAnalyze({
        store: url,
        model: join(modelsDir, 'latest'),
        chunk: '1d',
        env: {},
      });
      assert.equal(series.rows, 3 * PER_DAY);
      assert.equal(series.chunks.length, 3);
      for (const [d, chunk] of series.chunks.entries()) {
        assert.equal(chunk.from, Date.UTC(2026, 0, 5 + d));
        assert.equal(chunk.to, chunk.from + DAY);
        assert.equal(chunk.rows, PER_DAY);
        const labeled = records
          .slice(d * PER_DAY, (d + 1) * PER_DAY)
          .filter((_, k) => (d * PER_DAY + k) % 3 !== 0).length;
        assert.equal(chunk.labeled, labeled);
        assert.equal(chunk.labelDelay?.medianSeconds, 3600);
        // The same rows through a live window give the same analysis.
        const w = new PredictionWindow(model.profile, model.info.version, { maxRows: PER_DAY });
        for (let i = d * PER_DAY; i < (d + 1) * PER_DAY; i++) {
          w.add(records[i]!);
          if (i % 3 !== 0) w.setLabel(records[i]!.id, labels[i]!, 3_600_000);
        }
        const live = analyzeWindow(
          { version: model.info.version, threshold: model.info.threshold, profile: model.profile },
          w.snapshot(),
        );
        for (const f of live.drift.features) {
          const c = chunk.drift.find((x) => x.feature === f.feature)!;
          assert.deepEqual(c.scores, f.scores, f.feature);
          assert.equal(c.drifted, f.drifted, f.feature);
        }
        assert.equal(chunk.estimated?.f1, live.estimated?.f1);
        assert.equal(chunk.realized?.rocAuc, live.realized?.rocAuc);
        assert.equal(chunk.realized?.accuracy, live.realized?.accuracy);
      }
      assert.match(table, /start \(UTC\)/);
      assert.match(table, /2026-01-07T00:00:00Z\s+500/);
    });
  });

  it('cuts row chunks, and the CLI prints the series as JSON', async () => {
    await withTempDir(async (dir) => {
      const url = await writeLog(dir);
      const { series } = await runMonitorAnalyze({
        store: url,
        model: join(modelsDir, 'latest'),
        chunkSize: '400',
        env: {},
      });
      assert.deepEqual(
        series.chunks.map((c) => c.rows),
        [400, 400, 400, 300],
      );
      const cli = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          join(repoRoot, 'src', 'cli', 'main.ts'),
          'monitor',
          'analyze',
          '--store',
          url,
          '--model',
          join(modelsDir, 'latest'),
          '--chunk',
          '12h',
          '--json',
        ],
        { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, CHURNWATCH_LOG_LEVEL: 'warn' } },
      );
      assert.equal(cli.status, 0, cli.stderr);
      const printed = JSON.parse(cli.stdout) as ChunkSeries;
      assert.equal(printed.chunking.periodMs, 12 * 3_600_000);
      // Predictions run 06:00 to 14:19 each day: two 12-hour chunks a day.
      assert.deepEqual(
        printed.chunks.map((c) => c.rows),
        [360, 140, 360, 140, 360, 140],
      );
    });
  });

  it('refuses bad chunk options with a coded error', async () => {
    for (const options of [{ chunk: '1 fortnight' }, { chunkSize: '0' }, { chunk: '1h', chunkSize: '10' }]) {
      await assert.rejects(
        runMonitorAnalyze({
          ...options,
          store: 'sqlite::memory:',
          model: join(modelsDir, 'latest'),
          env: {},
        }),
        (error: unknown) => isChurnwatchError(error) && error.code === 'CW_MONITOR_BAD_OPTION',
      );
    }
  });
});
