/**
 * The shared backend: PostgreSQL via `pg`, for several API replicas and the `monitor` role. Writes are
 * set-based (one INSERT … SELECT FROM unnest(arrays) per batch: one parameter per column whatever the batch size,
 * numbers in binary: array-parameters.ts),
 * feedback joins lock their prediction rows (SELECT … ORDER BY id FOR UPDATE, so two replicas never
 * deadlock nor double-join), pending feedback is claimed with FOR UPDATE SKIP LOCKED, an insert marks
 * the pending items its predictions could match under PENDING_LOCK (see there), and migrations
 * hold an advisory lock so replicas starting together apply each migration once and add each new
 * feature column (feature-registry.ts) once.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { FeatureSpec } from '../../data/feature-types.js';
import { ChurnwatchError } from '../../errors.js';
import {
  type FeatureColumn,
  MAX_FEATURE_COLUMNS,
  newFeatureColumns,
  type RegistryRow,
  registeredColumns,
  sqlIdentifier,
} from '../feature-registry.js';
import {
  checkFeedbackInput,
  decideJoins,
  type JoinItem,
  type JoinTarget,
  type PendingFeedbackRow,
  toOutcome,
} from '../feedback-join.js';
import { rowToLoggedPrediction } from '../logged-prediction.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from '../migrations.js';
import { wakeKeys } from '../pending-wake.js';
import { pickFeatures } from '../pick-features.js';
import { PredictionColumnsBuilder } from '../prediction-columns-builder.js';
import type {
  DroppedPending,
  DroppedPredictions,
  FeedbackCounts,
  FeedbackInput,
  FeedbackOutcome,
  LoggedPrediction,
  PendingJoin,
  PredictionColumns,
  PredictionQuery,
  PredictionRows,
  PredictionStore,
  StoreStats,
} from '../prediction-store.js';
import {
  checkCutoff,
  checkQuery,
  DEFAULT_COLUMN_PAGE,
  DEFAULT_OBJECT_PAGE,
  DROP_PENDING_PAGE,
  JOIN_PENDING_PAGE,
  RETENTION_PAGE,
  yieldToEventLoop,
} from '../query-range.js';
import { redactUrl } from '../redact-url.js';
import { EXPRESSO_FEATURES, type RowLayout, rowLayout } from '../row-layout.js';
import { checkWritable, READ_CREATED_AT, type StoreLayout, storeLayout } from '../store-layout.js';
import { unnestParameters } from './array-parameters.js';

/** Connections a store's pool may open unless told otherwise. */
export const DEFAULT_POOL_SIZE = 10;

export interface PostgresStoreOptions {
  /** `postgres://user@host:5432/db`; libpq environment variables (PGHOST, PGUSER…) fill the gaps. */
  readonly connectionString: string;
  /** Connections in the pool (default DEFAULT_POOL_SIZE). */
  readonly poolSize?: number;
  /** Schema for the tables (sets search_path); default the server's search_path, normally `public`. */
  readonly schema?: string;
  /** The model's features (its schema's); default Expresso's. migrate() gives each a column. */
  readonly features?: readonly FeatureSpec[];
  /**
   * With autovacuum off, how long after its last VACUUM a retention pass that deleted rows vacuums the
   * tables again, ms (default VACUUM_EVERY_MS; 0 for tests: after every such pass).
   */
  readonly vacuumEveryMs?: number;
}

/**
 * Deleted rows' space is reused only once VACUUM has seen them. Autovacuum (on by default) does that;
 * where it is off, retention vacuums the two tables itself, at most once a minute: SKIP_LOCKED, so a
 * replica never waits for another's VACUUM, which takes a lock inserts and deletes do not wait for.
 */
export const VACUUM_EVERY_MS = 60_000;

/** The element types of the unnest arrays, per insert value of `rows`. */
function insertTypes(rows: RowLayout): string[] {
  return [
    'text',
    'float8',
    'text',
    'text',
    'float8',
    'int2',
    ...rows.features.map((f) => (f.kind === 'numeric' ? 'float8' : 'text')),
  ];
}

interface InsertStatements {
  readonly types: readonly string[];
  readonly insert: string;
  /**
   * The same insert skipping ids already stored, for a batch the plain insert refused: one the writer
   * retried after its commit went through but the answer was lost. Not the first try: ON CONFLICT's
   * speculative insertion took PostgreSQL about a quarter more time per row (docs/performance.md).
   */
  readonly insertSkipping: string;
}

function insertStatements(layout: StoreLayout): InsertStatements {
  const types = insertTypes(layout.rows);
  const insert = `INSERT INTO predictions (${layout.insertColumns.join(', ')})
SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;
  return { types, insert, insertSkipping: `${insert}\nON CONFLICT (id) DO NOTHING` };
}

async function readRegistry(client: pg.Pool | pg.PoolClient, where: string): Promise<FeatureColumn[]> {
  const result = await client.query<RegistryRow>(
    'SELECT position, feature, column_name, kind FROM feature_columns',
  );
  return registeredColumns(result.rows, where);
}

// A named prediction that is not stored yet stays pending (no fallback to the user's older prediction).
const RESOLVE_SQL = `SELECT CASE WHEN i.prediction_id IS NOT NULL
    THEN (SELECT p.id FROM predictions p WHERE p.id = i.prediction_id)
    ELSE (SELECT p.id FROM predictions p WHERE p.user_id = i.user_id AND p.created_at <= i.observed_at
          ORDER BY p.created_at DESC, p.id DESC LIMIT 1)
  END AS target
FROM unnest($1::text[], $2::text[], $3::float8[]) WITH ORDINALITY AS i(prediction_id, user_id, observed_at, ord)
ORDER BY i.ord`;

const LOCK_SQL = `SELECT id, created_at, model_version, score, predicted_class, label FROM predictions
WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`;

const SET_LABELS_SQL = `UPDATE predictions AS p
SET label = u.label, label_observed_at = u.observed_at, label_feedback_id = u.feedback_id
FROM unnest($1::text[], $2::int2[], $3::float8[], $4::text[]) AS u(id, label, observed_at, feedback_id)
WHERE p.id = u.id AND p.label IS NULL`;

const INSERT_FEEDBACK_SQL = `INSERT INTO feedback
  (id, prediction_id, user_id, label, observed_at, received_at, status, joined_prediction_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int2[], $5::float8[], $6::float8[], $7::text[], $8::text[])`;

// The marked items only (feedback_pending_retry): an item no prediction could match is never read.
const PENDING_PAGE_SQL = `SELECT id, prediction_id, user_id, label, observed_at, received_at FROM feedback
WHERE status = 'pending' AND retry = 1 AND (received_at, id) > ($1, $2)
ORDER BY received_at, id LIMIT $3 FOR UPDATE SKIP LOCKED`;

const RESOLVE_PENDING_SQL = `UPDATE feedback AS f SET status = u.status, joined_prediction_id = u.prediction_id, retry = 0
FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, status, prediction_id)
WHERE f.id = u.id AND f.status = 'pending'`;

const STILL_PENDING_SQL = `UPDATE feedback SET retry = 0 WHERE id = ANY($1::text[]) AND status = 'pending'`;

/**
 * A prediction and the feedback that names it can be written at once by two transactions that do not
 * see each other: the feedback stays pending and the insert finds nothing to mark. So an insert marks
 * under this lock shared (inserts never wait for each other) and feedback that stays pending is decided
 * again under it exclusive: whichever commits second sees the other's rows. Rows already marked are
 * marked again (no `retry = 0` test): an update then waits for a joinPending holding the row, and marks
 * it after, should that joinPending have missed this prediction.
 */
const PENDING_LOCK = `hashtext('churnwatch:pending:' || current_schema())`;

const WAKE_SQL = `WITH by_id AS (
  UPDATE feedback SET retry = 1 WHERE status = 'pending' AND prediction_id = ANY($1::text[]) RETURNING 1
), by_user AS (
  UPDATE feedback AS f SET retry = 1 FROM unnest($2::text[], $3::float8[]) AS u(user_id, earliest)
  WHERE f.status = 'pending' AND f.prediction_id IS NULL AND f.user_id = u.user_id AND f.observed_at >= u.earliest
  RETURNING 1
)
SELECT (SELECT count(*) FROM by_id) + (SELECT count(*) FROM by_user) AS n`;

const DROP_EXPIRED_SQL = `DELETE FROM feedback WHERE id IN (SELECT id FROM feedback
WHERE status = 'pending' AND received_at < $1 ORDER BY received_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)`;

// The newest item beyond the cap: it and every older pending item go.
const CAP_EDGE_SQL = `SELECT received_at, id FROM feedback WHERE status = 'pending'
ORDER BY received_at DESC, id DESC LIMIT 1 OFFSET $1`;

const DROP_THROUGH_SQL = `DELETE FROM feedback WHERE id IN (SELECT id FROM feedback
WHERE status = 'pending' AND (received_at, id) <= ($1, $2) ORDER BY received_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)`;

/**
 * Retention: the oldest predictions made before the cutoff, locked as they go. A row a feedback join
 * holds (it locks its prediction, FOR UPDATE) is passed over and taken by a later pass, so no join ever
 * waits for retention, and replicas running it at once share the rows instead of queueing.
 */
const DROP_PREDICTIONS_SQL = `DELETE FROM predictions WHERE id IN (SELECT id FROM predictions
WHERE created_at < $1 ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id`;

/**
 * The feedback resolved to predictions just deleted (feedback_joined_prediction). A statement of its
 * own: under READ COMMITTED it sees the feedback of a join that held one of those rows and committed
 * before the delete took it.
 */
const DROP_RESOLVED_FEEDBACK_SQL = 'DELETE FROM feedback WHERE joined_prediction_id = ANY($1::text[])';

/** The tables' bytes with their indexes and TOAST, and the oldest prediction's time. */
/** Whether autovacuum runs for the predictions table: on for the server and not disabled for it. */
const AUTOVACUUM_SQL = `SELECT current_setting('autovacuum') = 'on' AND NOT coalesce((SELECT
  'autovacuum_enabled=false' = ANY (reloptions) FROM pg_class WHERE oid = to_regclass('predictions')), false) AS on`;

const STORE_STATS_SQL = `SELECT (SELECT coalesce(sum(pg_total_relation_size(t)), 0) FROM unnest(ARRAY[
    to_regclass('predictions'), to_regclass('feedback'), to_regclass('feature_columns'),
    to_regclass('schema_migrations')]) AS t WHERE t IS NOT NULL)::float8 AS size,
  (SELECT min(created_at) FROM predictions) AS oldest`;

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function unavailable(connectionString: string, error: unknown): ChurnwatchError {
  return new ChurnwatchError(
    'CW_STORE_UNAVAILABLE',
    `cannot reach PostgreSQL at ${redactUrl(connectionString)}: ${(error as Error).message}`,
    {
      hint: 'check that PostgreSQL is running and that the URL, user and database are right (CHURNWATCH_STORE_URL)',
      cause: error,
    },
  );
}

export function createPostgresStore(options: PostgresStoreOptions): PredictionStore {
  const features = options.features ?? EXPRESSO_FEATURES;
  const rows = rowLayout(features);
  const storeName = `PostgreSQL store ${redactUrl(options.connectionString)}${options.schema ? ` (schema ${options.schema})` : ''}`;
  // Set by migrate(), or loaded on the first write of a store used without it.
  let writes: { layout: StoreLayout; sql: InsertStatements } | undefined;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    ...(options.schema ? { options: `-c search_path=${quoteIdentifier(options.schema)}` } : {}),
  });
  // An idle connection dropped by the server emits here; without a listener it would crash the process.
  // The next query gets a fresh connection or a visible error, so nothing is lost by ignoring it.
  pool.on('error', () => {});
  // A connection that breaks while checked out emits on the client itself; the query in flight rejects
  // with the same error, so the listener only keeps the process alive.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });

  async function connect(): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (error) {
      throw unavailable(options.connectionString, error);
    }
  }

  async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Resolves and locks each item's prediction; undefined where none matches yet. `serialize` (new
   * feedback): an item left unmatched is resolved again under PENDING_LOCK, taken before any row lock
   * so that it never waits for an insert while holding what the insert may wait for.
   */
  async function lockTargets(
    client: pg.PoolClient,
    keys: readonly { predictionId: string | null; userId: string | null; observedAt: number }[],
    serialize: boolean,
  ): Promise<(JoinTarget | undefined)[]> {
    const resolve = async () =>
      (
        await client.query<{ target: string | null }>(RESOLVE_SQL, [
          keys.map((k) => k.predictionId),
          keys.map((k) => (k.predictionId ? null : k.userId)),
          keys.map((k) => k.observedAt),
        ])
      ).rows.map((r) => r.target);
    let targets = await resolve();
    if (serialize && targets.includes(null)) {
      await client.query(`SELECT pg_advisory_xact_lock(${PENDING_LOCK})`);
      targets = await resolve();
    }
    const ids = [...new Set(targets.filter((t): t is string => t !== null))];
    const byId = new Map<string, JoinTarget>();
    if (ids.length > 0) {
      const locked = await client.query(LOCK_SQL, [ids]);
      for (const r of locked.rows) {
        byId.set(r.id, {
          id: r.id,
          createdAt: r.created_at,
          modelVersion: r.model_version,
          score: r.score,
          predictedClass: r.predicted_class,
          label: r.label,
        });
      }
    }
    return targets.map((t) => (t === null ? undefined : byId.get(t)));
  }

  async function setLabels(
    client: pg.PoolClient,
    joins: readonly { predictionId: string; label: 0 | 1; observedAt: number; feedbackId: string }[],
  ): Promise<void> {
    if (joins.length === 0) return;
    const result = await client.query(SET_LABELS_SQL, [
      joins.map((j) => j.predictionId),
      joins.map((j) => j.label),
      joins.map((j) => j.observedAt),
      joins.map((j) => j.feedbackId),
    ]);
    // The rows are locked and were unlabelled when read, so every update must land.
    if (result.rowCount !== joins.length) {
      throw new Error(
        `feedback join updated ${result.rowCount} of ${joins.length} predictions; retry the batch`,
      );
    }
  }

  function rangeOf(query: PredictionQuery, params: unknown[]): string[] {
    const where: string[] = [];
    if (query.from !== undefined) where.push(`created_at >= $${params.push(query.from)}`);
    if (query.to !== undefined) where.push(`created_at < $${params.push(query.to)}`);
    if (query.modelVersion !== undefined) where.push(`model_version = $${params.push(query.modelVersion)}`);
    return where;
  }

  /** The registry as it is now: features another replica added since are read too. */
  async function readLayout(): Promise<StoreLayout> {
    return storeLayout(await readRegistry(pool, storeName), rows);
  }

  async function* pages(
    query: PredictionQuery,
    defaultPage: number,
    layout: StoreLayout,
  ): AsyncGenerator<unknown[][]> {
    checkQuery(query);
    if (query.limit === 0) return;
    const pageSize = query.pageSize ?? defaultPage;
    const params: unknown[] = [];
    const where = rangeOf(query, params);
    if (query.limit !== undefined) {
      const start = await pool.query({
        text: `SELECT created_at, id FROM predictions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
               ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $${params.length + 1}`,
        values: [...params, query.limit - 1],
        rowMode: 'array',
      });
      const key = start.rows[0] as [number, string] | undefined;
      if (key) where.push(`(created_at, id) >= ($${params.push(key[0])}, $${params.push(key[1])})`);
    }
    let remaining = query.limit ?? Number.POSITIVE_INFINITY;
    let after: [number, string] | undefined;
    for (;;) {
      const values = [...params];
      const conditions = [...where];
      if (after) conditions.push(`(created_at, id) > ($${values.push(after[0])}, $${values.push(after[1])})`);
      const result = await pool.query({
        text: `SELECT ${layout.readColumns.join(', ')} FROM predictions
               ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
               ORDER BY created_at, id LIMIT $${values.push(Math.min(pageSize, remaining))}`,
        values,
        rowMode: 'array',
      });
      const rows = result.rows as unknown[][];
      if (rows.length === 0) return;
      remaining -= rows.length;
      yield rows;
      if (rows.length < pageSize || remaining <= 0) return;
      const last = rows.at(-1)!;
      after = [last[READ_CREATED_AT] as number, last[layout.readId] as string];
    }
  }

  /** One multi-row insert (unnest over one array per column); ids already stored are skipped. */
  async function insertRows(batch: PredictionRows): Promise<void> {
    if (batch.count === 0) return;
    if (!writes) {
      const layout = await readLayout();
      writes = { layout, sql: insertStatements(layout) };
    }
    checkWritable(writes.layout, storeName);
    const { sql } = writes;
    const columns = unnestParameters(rows, batch, sql.types);
    const keys = wakeKeys(batch, rows);
    // Unnamed statements: a named one would be parsed once per connection (a quarter less PostgreSQL
    // CPU per request under single-record load, no change in rate), but fails behind a PgBouncer in
    // transaction mode, where the next statement may reach a server connection that never saw it.
    const write = (insert: string) =>
      inTransaction(async (client) => {
        await client.query(insert, columns);
        await client.query(`SELECT pg_advisory_xact_lock_shared(${PENDING_LOCK})`);
        await client.query(WAKE_SQL, [keys.predictionIds, keys.userIds, keys.earliest]);
      });
    try {
      await write(sql.insert);
    } catch (error) {
      // A transaction that fails wrote nothing: the batch goes again, skipping the ids already there.
      if ((error as { constraint?: string }).constraint !== 'predictions_pkey') throw error;
      await write(sql.insertSkipping);
    }
  }

  /** Deletes up to DROP_PENDING_PAGE items per statement until a statement deletes fewer. */
  async function dropPages(sql: string, params: unknown[]): Promise<number> {
    let dropped = 0;
    for (;;) {
      const n = (await pool.query(sql, [...params, DROP_PENDING_PAGE])).rowCount ?? 0;
      dropped += n;
      if (n < DROP_PENDING_PAGE) return dropped;
      await yieldToEventLoop();
    }
  }

  let lastVacuum = Number.NEGATIVE_INFINITY;
  /** VACUUM after retention deleted rows, where autovacuum does not (VACUUM_EVERY_MS). */
  async function vacuumIfNeeded(): Promise<void> {
    if (Date.now() - lastVacuum < (options.vacuumEveryMs ?? VACUUM_EVERY_MS)) return;
    if ((await pool.query<{ on: boolean }>(AUTOVACUUM_SQL)).rows[0]?.on) return;
    lastVacuum = Date.now();
    await pool.query('VACUUM (SKIP_LOCKED) predictions, feedback');
  }

  // The cap the pending items were last brought within, undefined once this store records pending
  // items: the check reads up to `max` index entries, so an idle replica (or one whose feedback all
  // joins) skips it.
  let withinCap: number | undefined;

  return {
    kind: 'postgres',
    rowLayout: rows,

    async migrate() {
      const registered = await inTransaction(async (client) => {
        // Replicas starting together queue here; the first applies, the others then find nothing to do.
        await client.query(
          `SELECT pg_advisory_xact_lock(hashtext('churnwatch:migrate:' || current_schema()))`,
        );
        await client.query(SCHEMA_MIGRATIONS_TABLE);
        const done = new Set(
          (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
            (r) => r.version,
          ),
        );
        for (const m of MIGRATIONS) {
          if (done.has(m.version)) continue;
          if (m.postgres) await client.query(m.postgres);
          await client.query(
            'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
            [m.version, m.name, new Date().toISOString()],
          );
        }
        // Under the same lock: two replicas adding the same feature would otherwise both ALTER TABLE.
        const before = await readRegistry(client, storeName);
        const added = newFeatureColumns(before, features, storeName, MAX_FEATURE_COLUMNS.postgres);
        const last = await client.query<{ n: number }>(
          'SELECT coalesce(max(position), 0)::float8 AS n FROM feature_columns',
        );
        let position = last.rows[0]?.n ?? 0;
        for (const c of added) {
          // The name is one feature-registry.ts made ([a-z0-9_]), never the feature's own.
          await client.query(
            `ALTER TABLE predictions ADD COLUMN ${sqlIdentifier(c.column)} ${c.kind === 'numeric' ? 'DOUBLE PRECISION' : 'TEXT'}`,
          );
          await client.query(
            'INSERT INTO feature_columns (position, feature, column_name, kind) VALUES ($1, $2, $3, $4)',
            [++position, c.feature, c.column, c.kind],
          );
        }
        return [...before, ...added];
      });
      const layout = storeLayout(registered, rows);
      writes = { layout, sql: insertStatements(layout) };
    },

    insertRows,

    async recordFeedback(items: readonly FeedbackInput[]) {
      items.forEach(checkFeedbackInput);
      if (items.length === 0) return [];
      return inTransaction(async (client) => {
        const joinItems: JoinItem[] = items.map((item) => ({
          feedbackId: randomUUID(),
          label: item.label,
          observedAt: item.observedAt,
        }));
        const targets = await lockTargets(
          client,
          items.map((item) => ({
            predictionId: item.predictionId || null,
            userId: item.userId || null,
            observedAt: item.observedAt,
          })),
          true,
        );
        const decisions = decideJoins(joinItems, targets);
        if (decisions.some((d) => d.status === 'pending')) withinCap = undefined;
        await setLabels(
          client,
          decisions.flatMap((d, i) =>
            d.status === 'joined'
              ? [
                  {
                    predictionId: d.target!.id,
                    label: items[i]!.label,
                    observedAt: items[i]!.observedAt,
                    feedbackId: joinItems[i]!.feedbackId,
                  },
                ]
              : [],
          ),
        );
        await client.query(INSERT_FEEDBACK_SQL, [
          joinItems.map((j) => j.feedbackId),
          items.map((item) => item.predictionId || null),
          items.map((item) => item.userId || null),
          items.map((item) => item.label),
          items.map((item) => item.observedAt),
          items.map((item) => item.receivedAt),
          decisions.map((d) => d.status),
          decisions.map((d) => d.target?.id ?? null),
        ]);
        return joinItems.map((j, i) => toOutcome(j, decisions[i]!));
      });
    },

    async joinPending(): Promise<PendingJoin> {
      const outcomes: FeedbackOutcome[] = [];
      let tried = 0;
      let after: [number, string] = [Number.NEGATIVE_INFINITY, ''];
      for (;;) {
        const page = await inTransaction(async (client) => {
          const claimed = await client.query<PendingFeedbackRow>(PENDING_PAGE_SQL, [
            ...after,
            JOIN_PENDING_PAGE,
          ]);
          const rows = claimed.rows;
          if (rows.length === 0) return { rows, outcomes: [] as FeedbackOutcome[] };
          const joinItems: JoinItem[] = rows.map((r) => ({
            feedbackId: r.id,
            label: r.label as 0 | 1,
            observedAt: r.observed_at,
          }));
          const targets = await lockTargets(
            client,
            rows.map((r) => ({
              predictionId: r.prediction_id,
              userId: r.user_id,
              observedAt: r.observed_at,
            })),
            false,
          );
          const decisions = decideJoins(joinItems, targets);
          const resolved = rows.flatMap((_row, i) => (decisions[i]!.status === 'pending' ? [] : [i]));
          // Tried and still unmatched: not read again until a prediction that could match it is written.
          const unmatched = rows.filter((_row, i) => decisions[i]!.status === 'pending').map((r) => r.id);
          if (unmatched.length > 0) await client.query(STILL_PENDING_SQL, [unmatched]);
          await setLabels(
            client,
            resolved
              .filter((i) => decisions[i]!.status === 'joined')
              .map((i) => ({
                predictionId: decisions[i]!.target!.id,
                label: joinItems[i]!.label,
                observedAt: joinItems[i]!.observedAt,
                feedbackId: joinItems[i]!.feedbackId,
              })),
          );
          if (resolved.length > 0) {
            await client.query(RESOLVE_PENDING_SQL, [
              resolved.map((i) => rows[i]!.id),
              resolved.map((i) => decisions[i]!.status),
              resolved.map((i) => decisions[i]!.target!.id),
            ]);
          }
          return { rows, outcomes: resolved.map((i) => toOutcome(joinItems[i]!, decisions[i]!)) };
        });
        outcomes.push(...page.outcomes);
        tried += page.rows.length;
        const last = page.rows.at(-1);
        if (!last || page.rows.length < JOIN_PENDING_PAGE) return { outcomes, tried };
        after = [last.received_at, last.id];
        await yieldToEventLoop();
      }
    },

    async *readPredictions(query: PredictionQuery = {}): AsyncIterable<LoggedPrediction[]> {
      checkQuery(query);
      const layout = await readLayout();
      for await (const page of pages(query, DEFAULT_OBJECT_PAGE, layout))
        yield page.map((row) => rowToLoggedPrediction(layout, row));
    },

    async readColumns(query: PredictionQuery = {}): Promise<PredictionColumns> {
      checkQuery(query);
      const params: unknown[] = [];
      const where = rangeOf(query, params);
      const counted = await pool.query<{ n: number }>(
        `SELECT count(*)::float8 AS n FROM predictions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
        params,
      );
      const count = counted.rows[0]?.n ?? 0;
      const layout = await readLayout();
      const builder = new PredictionColumnsBuilder(Math.min(count, query.limit ?? count), layout);
      for await (const page of pages(query, DEFAULT_COLUMN_PAGE, layout)) builder.addRows(page);
      return pickFeatures(builder.finish(), query.features, storeName);
    },

    async storedIds(ids) {
      if (ids.length === 0) return new Set();
      const result = await pool.query<{ id: string }>(
        'SELECT id FROM predictions WHERE id = ANY($1::text[])',
        [ids],
      );
      return new Set(result.rows.map((r) => r.id));
    },

    async countPendingFeedback(): Promise<number> {
      const result = await pool.query<{ n: number }>(
        "SELECT count(*)::float8 AS n FROM feedback WHERE status = 'pending'",
      );
      return result.rows[0]?.n ?? 0;
    },

    async dropPending({ max, receivedBefore }): Promise<DroppedPending> {
      const expired = await dropPages(DROP_EXPIRED_SQL, [receivedBefore]);
      if (!Number.isFinite(max) || (withinCap !== undefined && max >= withinCap)) return { cap: 0, expired };
      withinCap = max;
      const edge = (await pool.query<{ received_at: number; id: string }>(CAP_EDGE_SQL, [max])).rows[0];
      const cap = edge ? await dropPages(DROP_THROUGH_SQL, [edge.received_at, edge.id]) : 0;
      return { cap, expired };
    },

    async dropPredictions(createdBefore: number, signal?: AbortSignal): Promise<DroppedPredictions> {
      checkCutoff(createdBefore);
      const dropped = { predictions: 0, feedback: 0 };
      while (!signal?.aborted) {
        const page = await inTransaction(async (client) => {
          const deleted = await client.query<{ id: string }>(DROP_PREDICTIONS_SQL, [
            createdBefore,
            RETENTION_PAGE,
          ]);
          const ids = deleted.rows.map((r) => r.id);
          const feedback =
            ids.length > 0 ? ((await client.query(DROP_RESOLVED_FEEDBACK_SQL, [ids])).rowCount ?? 0) : 0;
          return { predictions: ids.length, feedback };
        });
        dropped.predictions += page.predictions;
        dropped.feedback += page.feedback;
        if (page.predictions < RETENTION_PAGE) break;
        await yieldToEventLoop();
      }
      if (dropped.predictions > 0 && !signal?.aborted) await vacuumIfNeeded();
      return dropped;
    },

    async storeStats(): Promise<StoreStats> {
      const result = await pool.query<{ size: number; oldest: number | null }>(STORE_STATS_SQL);
      const row = result.rows[0];
      return { sizeBytes: row?.size ?? 0, oldestPredictionAt: row?.oldest ?? null };
    },

    async pendingStats() {
      const result = await pool.query<{ count: number; oldest: number | null }>(
        "SELECT count(*)::float8 AS count, min(received_at) AS oldest FROM feedback WHERE status = 'pending'",
      );
      const row = result.rows[0];
      return { count: row?.count ?? 0, oldestReceivedAt: row?.oldest ?? null };
    },

    async countFeedback(): Promise<FeedbackCounts> {
      const counts = { joined: 0, pending: 0, duplicate: 0, conflict: 0 };
      const result = await pool.query<{ status: string; n: number }>(
        'SELECT status, count(*)::float8 AS n FROM feedback GROUP BY status',
      );
      for (const { status, n } of result.rows) counts[status as keyof FeedbackCounts] = n;
      return counts;
    },

    async ping() {
      const client = await connect();
      try {
        const result = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
        if (result.rows[0]?.recovery) throw new Error('PostgreSQL is a read-only standby');
        await client.query('SELECT 1 FROM predictions LIMIT 0');
      } catch (error) {
        throw unavailable(options.connectionString, error);
      } finally {
        client.release();
      }
    },

    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}
