/**
 * Retention through a real `churnwatch serve` process, on a SQLite file and on PostgreSQL: five
 * simulated weeks of predictions logged with their timestamps (POST /log, an hour apart) and every
 * third one labelled, with `--retention 14d` and a pass every 200 ms, while predictions keep being
 * served. Only the last two weeks stay, the feedback of deleted predictions went with them (none is
 * left pointing at a deleted prediction), every prediction served meanwhile is stored, and the metrics
 * say so. Unreachable PostgreSQL fails under CI=true and skips its case elsewhere.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { freePort } from '../helpers/free-port.js';
import { postgresSkip } from '../helpers/postgres-reachable.js';
import { localServeArgs, spawnServe } from '../helpers/serve-process.js';
import { customerRequests, POSTGRES_URL, parseMetrics, sumSeries } from '../helpers/server-harness.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { trainSmallModel } from '../helpers/train-small-model.js';
import { waitFor } from '../helpers/wait-for.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEKS = 5;
const RECORDS = WEEKS * 7 * 24;
/** Kept: the last two weeks; the records are an hour apart, half an hour off the cutoff. */
const KEPT_FROM = (WEEKS - 2) * 7 * 24;

/** What the test reads straight from the database, beside the server. */
interface DirectRead {
  predictionIds(): Promise<string[]>;
  oldest(): Promise<number | null>;
  /** Feedback by status. */
  feedback(): Promise<Record<string, number>>;
  /** Feedback resolved to a prediction the store no longer holds. */
  orphans(): Promise<number>;
  close(): Promise<void>;
}

const ORPHANS = `SELECT count(*) AS n FROM feedback f WHERE f.joined_prediction_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.id = f.joined_prediction_id)`;

interface Backend {
  readonly name: string;
  readonly skip?: string | false;
  open(dir: string): Promise<{ url: string; db: DirectRead }>;
}

const unreachable = await postgresSkip(POSTGRES_URL);

const BACKENDS: readonly Backend[] = [
  {
    name: 'sqlite',
    async open(dir) {
      const path = join(dir, 'retention.db');
      const read = <T>(fn: (db: Database.Database) => T) => {
        const db = new Database(path, { readonly: true });
        try {
          return fn(db);
        } finally {
          db.close();
        }
      };
      return {
        url: `sqlite:${path}`,
        db: {
          predictionIds: async () =>
            read((db) => db.prepare('SELECT id FROM predictions ORDER BY id').pluck().all() as string[]),
          oldest: async () =>
            read(
              (db) => db.prepare('SELECT min(created_at) FROM predictions').pluck().get() as number | null,
            ),
          feedback: async () =>
            read((db) =>
              Object.fromEntries(
                db.prepare('SELECT status, count(*) FROM feedback GROUP BY status').raw().all() as [
                  string,
                  number,
                ][],
              ),
            ),
          orphans: async () => read((db) => db.prepare(ORPHANS).pluck().get() as number),
          close: async () => {},
        },
      };
    },
  },
  {
    name: 'postgres',
    skip: unreachable,
    async open() {
      const schema = `cw_retention_${randomBytes(6).toString('hex')}`;
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`SET search_path = ${schema}`);
      const column = async <T>(sql: string) =>
        (await client.query(sql)).rows.map((r) => Object.values(r)[0] as T);
      return {
        url: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
        db: {
          predictionIds: () => column<string>('SELECT id FROM predictions ORDER BY id COLLATE "C"'),
          oldest: async () =>
            (await column<number | null>('SELECT min(created_at) FROM predictions'))[0] ?? null,
          feedback: async () =>
            Object.fromEntries(
              (
                await client.query('SELECT status, count(*)::int AS n FROM feedback GROUP BY status')
              ).rows.map((r) => [r.status, r.n]),
            ),
          orphans: async () => (await column<number>(`SELECT n::int FROM (${ORPHANS}) c`))[0]!,
          close: async () => {
            await client.query(`DROP SCHEMA ${schema} CASCADE`);
            await client.end();
          },
        },
      };
    },
  },
];

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${url}: ${text}`);
  return JSON.parse(text);
}

describe('retention through churnwatch serve', () => {
  for (const backend of BACKENDS) {
    it(
      `keeps only the span of five simulated weeks while serving goes on (${backend.name})`,
      {
        skip: backend.skip ?? false,
      },
      () =>
        withTempDir(async (dir) => {
          const models = await trainSmallModel();
          const port = await freePort();
          const base = `http://127.0.0.1:${port}`;
          const { url, db } = await backend.open(dir);
          const run = spawnServe(
            [...localServeArgs(port, join(models, 'latest'), url), '--retention', '14d'],
            { ...process.env, CHURNWATCH_JOIN_INTERVAL_MS: '200', CHURNWATCH_LOG_LEVEL: 'warn' },
          );
          try {
            await run.serving(60_000);
            const start = Date.now() - WEEKS * 7 * DAY;
            const features = customerRequests(RECORDS, 11);
            const logged = features.map((f, k) => ({
              ...f,
              score: 0.05 + (k % 9) / 10,
              prediction_id: `w${String(k).padStart(4, '0')}`,
              timestamp: start + k * HOUR + HOUR / 2,
            }));
            // Served meanwhile: every one must be stored, retention or not.
            const served: string[] = [];
            let filling = true;
            const serving = (async () => {
              for (let i = 0; filling; i++) {
                const answer = (await post(`${base}/predict`, {
                  records: customerRequests(20, 100 + i),
                })) as {
                  predictions: { prediction_id: string }[];
                };
                served.push(...answer.predictions.map((p) => p.prediction_id));
              }
            })();
            for (let i = 0; i < RECORDS; i += 120) {
              const batch = logged.slice(i, i + 120);
              await post(`${base}/log`, { records: batch });
              await post(`${base}/feedback`, {
                records: batch
                  .filter((_, k) => (i + k) % 3 === 0)
                  .map((r, k) => ({ prediction_id: r.prediction_id, churn: k % 2 })),
              });
            }
            filling = false;
            await serving;
            // Written last, so on SQLite no old prediction is the one written last.
            const last = (await post(`${base}/predict`, { records: customerRequests(5, 99) })) as {
              predictions: { prediction_id: string }[];
            };
            served.push(...last.predictions.map((p) => p.prediction_id));
            const metrics = async () => parseMetrics(await (await fetch(`${base}/metrics`)).text());
            const kept = logged.slice(KEPT_FROM).map((r) => r.prediction_id);
            // Labels that arrived before their prediction was written join at the next periodic join.
            const keptLabelled = kept.filter((_, k) => (KEPT_FROM + k) % 3 === 0).length;
            const deleted = await waitFor(
              async () => {
                const m = await metrics();
                // Acknowledged predictions are written within the flush interval (50 ms).
                const done =
                  sumSeries(m, 'churnwatch_store_retention_deleted_total', 'kind="prediction"') ===
                    KEPT_FROM &&
                  (await db.feedback()).joined === keptLabelled &&
                  (await db.predictionIds()).length === kept.length + served.length;
                return done && m;
              },
              {
                what: `retention to delete the ${KEPT_FROM} predictions older than 14 days, the labels to join, the served predictions to be written`,
                timeoutMs: 30_000,
                describe: async () =>
                  `deleted ${sumSeries(await metrics(), 'churnwatch_store_retention_deleted_total', 'kind="prediction"')}\n${run.out.stderr}`,
              },
            );

            assert.deepEqual(await db.predictionIds(), [...kept, ...served].sort());
            assert.equal(await db.oldest(), logged[KEPT_FROM]!.timestamp);
            assert.equal(await db.orphans(), 0, 'no feedback left resolved to a deleted prediction');
            // Each old label went with its prediction, or (its prediction already gone) waits, pending.
            const feedback = await db.feedback();
            const oldLabelled = logged.slice(0, KEPT_FROM).filter((_, k) => k % 3 === 0).length;
            const deletedFeedback = sumSeries(
              deleted,
              'churnwatch_store_retention_deleted_total',
              'kind="feedback"',
            );
            assert.equal(deletedFeedback + (feedback.pending ?? 0), oldLabelled, JSON.stringify(feedback));
            assert.equal(sumSeries(deleted, 'churnwatch_store_retention_seconds'), 14 * 86_400);
            assert.equal(
              sumSeries(deleted, 'churnwatch_store_oldest_prediction_timestamp_seconds'),
              logged[KEPT_FROM]!.timestamp / 1000,
            );
            assert.ok(sumSeries(deleted, 'churnwatch_store_size_bytes') > 0);
          } finally {
            run.child.kill('SIGTERM');
            const { code } = await run.exited;
            await db.close();
            assert.equal(code, 0, run.out.stderr);
          }
        }),
    );
  }
});
