/**
 * The embedded backend: one SQLite file via better-sqlite3, in WAL mode so readers (the monitor) never
 * block the writer, synchronous=NORMAL (a committed batch survives a process crash; a power loss may
 * lose the last transactions, see docs/feedback.md), and a busy timeout for other processes on the file.
 * better-sqlite3 is synchronous; long reads are paged and yield to the event loop between pages.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ChurnwatchError } from '../../errors.js';
import {
  checkFeedbackInput,
  decideJoins,
  type JoinItem,
  type JoinTarget,
  toOutcome,
} from '../feedback-join.js';
import { rowToLoggedPrediction } from '../logged-prediction.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from '../migrations.js';
import { PredictionColumnsBuilder } from '../prediction-columns-builder.js';
import type {
  FeedbackCounts,
  FeedbackInput,
  FeedbackOutcome,
  LoggedPrediction,
  PredictionColumns,
  PredictionQuery,
  PredictionRecord,
  PredictionStore,
} from '../prediction-store.js';
import {
  checkQuery,
  DEFAULT_COLUMN_PAGE,
  DEFAULT_OBJECT_PAGE,
  JOIN_PENDING_PAGE,
  yieldToEventLoop,
} from '../query-range.js';
import { INSERT_COLUMNS, insertParameters, READ_COLUMNS, READ_ID } from '../store-columns.js';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for a private in-memory database. */
  readonly path: string;
  /** How long a write waits for another process's lock before failing, ms (default 5,000). */
  readonly busyTimeoutMs?: number;
}

interface TargetRow {
  id: string;
  created_at: number;
  model_version: string;
  score: number;
  predicted_class: number;
  label: number | null;
}

const TARGET_COLUMNS = 'id, created_at, model_version, score, predicted_class, label';

function toTarget(row: TargetRow | undefined): JoinTarget | undefined {
  if (!row) return undefined;
  return {
    id: row.id,
    createdAt: row.created_at,
    modelVersion: row.model_version,
    score: row.score,
    predictedClass: row.predicted_class as 0 | 1,
    label: row.label as 0 | 1 | null,
  };
}

export function createSqliteStore(options: SqliteStoreOptions): PredictionStore {
  const { path } = options;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  let db: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: busyTimeoutMs });
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('cache_size = -65536');
  } catch (error) {
    throw new ChurnwatchError(
      'CW_STORE_OPEN_FAILED',
      `cannot open SQLite database ${path}: ${(error as Error).message}`,
      {
        hint: 'check that the directory exists and is writable, and that the file is a SQLite database',
        cause: error,
      },
    );
  }

  // Statements are prepared on first use: the tables exist only after migrate().
  let prepared: ReturnType<typeof prepare> | undefined;
  function prepare() {
    const placeholders = INSERT_COLUMNS.map(() => '?').join(', ');
    return {
      insertPrediction: db.prepare(
        `INSERT OR IGNORE INTO predictions (${INSERT_COLUMNS.join(', ')}) VALUES (${placeholders})`,
      ),
      byId: db.prepare<[string], TargetRow>(`SELECT ${TARGET_COLUMNS} FROM predictions WHERE id = ?`),
      byUser: db.prepare<[string, number], TargetRow>(
        `SELECT ${TARGET_COLUMNS} FROM predictions WHERE user_id = ? AND created_at <= ?
         ORDER BY created_at DESC, id DESC LIMIT 1`,
      ),
      setLabel: db.prepare(
        `UPDATE predictions SET label = ?, label_observed_at = ?, label_feedback_id = ?
         WHERE id = ? AND label IS NULL`,
      ),
      insertFeedback: db.prepare(
        `INSERT INTO feedback (id, prediction_id, user_id, label, observed_at, received_at, status, joined_prediction_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      pendingPage: db.prepare<[number, number, string, number], PendingRow>(
        `SELECT id, prediction_id, user_id, label, observed_at, received_at FROM feedback
         WHERE status = 'pending' AND (received_at > ? OR (received_at = ? AND id > ?))
         ORDER BY received_at, id LIMIT ?`,
      ),
      resolvePending: db.prepare(
        `UPDATE feedback SET status = ?, joined_prediction_id = ? WHERE id = ? AND status = 'pending'`,
      ),
      counts: db.prepare<[], { status: string; n: number }>(
        'SELECT status, COUNT(*) AS n FROM feedback GROUP BY status',
      ),
    };
  }
  function statements() {
    if (!prepared) {
      try {
        prepared = prepare();
      } catch (error) {
        if (/no such table/.test((error as Error).message)) {
          throw new TypeError(`SQLite store ${path} has no schema yet: call migrate() first`);
        }
        throw error;
      }
    }
    return prepared;
  }

  interface PendingRow {
    id: string;
    prediction_id: string | null;
    user_id: string | null;
    label: number;
    observed_at: number;
    received_at: number;
  }

  function resolveTarget(
    predictionId: string | null | undefined,
    userId: string | null | undefined,
    observedAt: number,
  ) {
    const s = statements();
    // A named prediction that is not stored yet stays pending: falling back to the user's older
    // prediction would label the wrong row while the named one is still in a writer's queue.
    if (predictionId) return toTarget(s.byId.get(predictionId));
    if (userId) return toTarget(s.byUser.get(userId, observedAt));
    return undefined;
  }

  const insertBatch = db.transaction((rows: (string | number | null)[][]) => {
    const insert = statements().insertPrediction;
    for (const row of rows) insert.run(row);
  });

  const recordBatch = db.transaction((items: readonly FeedbackInput[]): FeedbackOutcome[] => {
    const s = statements();
    const joinItems: JoinItem[] = items.map((item) => ({
      feedbackId: randomUUID(),
      label: item.label,
      observedAt: item.observedAt,
    }));
    const targets = items.map((item) => resolveTarget(item.predictionId, item.userId, item.observedAt));
    const decisions = decideJoins(joinItems, targets);
    return items.map((item, i) => {
      const joinItem = joinItems[i]!;
      const decision = decisions[i]!;
      if (decision.status === 'joined') {
        s.setLabel.run(item.label, item.observedAt, joinItem.feedbackId, decision.target!.id);
      }
      s.insertFeedback.run(
        joinItem.feedbackId,
        item.predictionId ?? null,
        item.userId ?? null,
        item.label,
        item.observedAt,
        item.receivedAt,
        decision.status,
        decision.target?.id ?? null,
      );
      return toOutcome(joinItem, decision);
    });
  });

  const joinPage = db.transaction((after: { receivedAt: number; id: string }) => {
    const s = statements();
    const rows = s.pendingPage.all(after.receivedAt, after.receivedAt, after.id, JOIN_PENDING_PAGE);
    const joinItems: JoinItem[] = rows.map((r) => ({
      feedbackId: r.id,
      label: r.label as 0 | 1,
      observedAt: r.observed_at,
    }));
    const decisions = decideJoins(
      joinItems,
      rows.map((r) => resolveTarget(r.prediction_id, r.user_id, r.observed_at)),
    );
    const outcomes: FeedbackOutcome[] = [];
    rows.forEach((row, i) => {
      const decision = decisions[i]!;
      if (decision.status === 'pending') return;
      if (decision.status === 'joined') {
        s.setLabel.run(row.label, row.observed_at, row.id, decision.target!.id);
      }
      s.resolvePending.run(decision.status, decision.target!.id, row.id);
      outcomes.push(toOutcome(joinItems[i]!, decision));
    });
    const last = rows.at(-1);
    return { outcomes, next: last ? { receivedAt: last.received_at, id: last.id } : undefined };
  });

  /** WHERE clause and parameters for a query's range, and the start key when only the newest `limit` are wanted. */
  function rangeOf(query: PredictionQuery): { where: string[]; params: (string | number)[] } {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.from !== undefined) {
      where.push('created_at >= ?');
      params.push(query.from);
    }
    if (query.to !== undefined) {
      where.push('created_at < ?');
      params.push(query.to);
    }
    if (query.modelVersion !== undefined) {
      where.push('model_version = ?');
      params.push(query.modelVersion);
    }
    if (query.limit !== undefined && query.limit > 0) {
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const start = db
        .prepare(
          `SELECT created_at, id FROM predictions ${clause} ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?`,
        )
        .raw()
        .get(...params, query.limit - 1) as [number, string] | undefined;
      if (start) {
        where.push('(created_at > ? OR (created_at = ? AND id >= ?))');
        params.push(start[0], start[0], start[1]);
      }
    }
    return { where, params };
  }

  /** Array rows in (created_at, id) order, page by page, by keyset; stops after `limit` rows. */
  async function* pages(query: PredictionQuery, defaultPage: number): AsyncGenerator<unknown[][]> {
    checkQuery(query);
    statements();
    if (query.limit === 0) return;
    const pageSize = query.pageSize ?? defaultPage;
    const { where, params } = rangeOf(query);
    const base = `SELECT ${READ_COLUMNS.join(', ')} FROM predictions`;
    const first = db
      .prepare(
        `${base} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT ?`,
      )
      .raw();
    const next = db
      .prepare(
        `${base} WHERE ${[...where, '(created_at > ? OR (created_at = ? AND id > ?))'].join(' AND ')}
         ORDER BY created_at, id LIMIT ?`,
      )
      .raw();
    let remaining = query.limit ?? Number.POSITIVE_INFINITY;
    let rows = first.all(...params, Math.min(pageSize, remaining)) as unknown[][];
    while (rows.length > 0) {
      remaining -= rows.length;
      yield rows;
      if (rows.length < pageSize || remaining <= 0) return;
      const last = rows.at(-1)!;
      await yieldToEventLoop();
      rows = next.all(
        ...params,
        last[0],
        last[0],
        last[READ_ID],
        Math.min(pageSize, remaining),
      ) as unknown[][];
    }
  }

  return {
    kind: 'sqlite',

    async migrate() {
      db.transaction(() => {
        db.exec(SCHEMA_MIGRATIONS_TABLE);
        const done = new Set(
          db
            .prepare('SELECT version FROM schema_migrations')
            .pluck()
            .all()
            .map((v) => Number(v)),
        );
        const record = db.prepare(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
        );
        for (const m of MIGRATIONS) {
          if (done.has(m.version)) continue;
          db.exec(m.sqlite);
          record.run(m.version, m.name, new Date().toISOString());
        }
      }).immediate();
      prepared = undefined;
    },

    async insertPredictions(records: readonly PredictionRecord[]) {
      if (records.length === 0) return;
      insertBatch.immediate(records.map(insertParameters));
    },

    async recordFeedback(items: readonly FeedbackInput[]) {
      items.forEach(checkFeedbackInput);
      if (items.length === 0) return [];
      return recordBatch.immediate(items);
    },

    async joinPending() {
      const outcomes: FeedbackOutcome[] = [];
      type Key = { receivedAt: number; id: string };
      let after: Key | undefined = { receivedAt: Number.NEGATIVE_INFINITY, id: '' };
      while (after) {
        const page: { outcomes: FeedbackOutcome[]; next: Key | undefined } = joinPage.immediate(after);
        outcomes.push(...page.outcomes);
        after = page.next;
        if (after) await yieldToEventLoop();
      }
      return outcomes;
    },

    async *readPredictions(query: PredictionQuery = {}): AsyncIterable<LoggedPrediction[]> {
      for await (const rows of pages(query, DEFAULT_OBJECT_PAGE)) yield rows.map(rowToLoggedPrediction);
    },

    async readColumns(query: PredictionQuery = {}): Promise<PredictionColumns> {
      checkQuery(query);
      statements();
      if (query.limit === 0) return new PredictionColumnsBuilder(0).finish();
      const pageSize = query.pageSize ?? DEFAULT_COLUMN_PAGE;
      const { where, params } = rangeOf(query);
      const count = db
        .prepare(`SELECT COUNT(*) FROM predictions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`)
        .pluck()
        .get(...params) as number;
      const builder = new PredictionColumnsBuilder(Math.min(count, query.limit ?? count));
      // Handing SQLite rows to JS costs about a microsecond per value; 2M rows x 23 columns would take
      // far more than the 3 s budget. So each page comes back as one JSON array per column
      // (json_group_array, exact for doubles), which JSON.parse turns into values several times faster.
      // A page is the key range (after, end], end found on the (created_at, id) index alone.
      const afterKey = '(created_at, id) > (?, ?)';
      const clause = (extra: string[]) => `WHERE ${[...where, ...extra].join(' AND ')}`;
      const endOfPage = db
        .prepare(
          `SELECT created_at, id FROM predictions ${clause([afterKey])} ORDER BY created_at, id LIMIT 1 OFFSET ?`,
        )
        .raw();
      const columns = READ_COLUMNS.slice(0, READ_ID);
      const pageOf = (extra: string[]) =>
        db
          .prepare(
            `SELECT ${columns.map((c) => `json_group_array(${c})`).join(', ')}
             FROM (SELECT ${columns.join(', ')} FROM predictions ${clause(extra)} ORDER BY created_at, id)`,
          )
          .raw();
      const middlePage = pageOf([afterKey, '(created_at, id) <= (?, ?)']);
      const lastPage = pageOf([afterKey]);
      let remaining = query.limit ?? Number.POSITIVE_INFINITY;
      let after: [number, string] = [Number.NEGATIVE_INFINITY, ''];
      while (remaining > 0) {
        const take = Math.min(pageSize, remaining);
        const end = endOfPage.get(...params, ...after, take - 1) as [number, string] | undefined;
        const json = (
          end ? middlePage.get(...params, ...after, ...end) : lastPage.get(...params, ...after)
        ) as string[];
        const page = json.map((text) => JSON.parse(text) as unknown[]);
        builder.addColumns(page);
        remaining -= page[0]!.length;
        if (!end) break;
        after = end;
        await yieldToEventLoop();
      }
      return builder.finish();
    },

    async countFeedback(): Promise<FeedbackCounts> {
      const counts = { joined: 0, pending: 0, duplicate: 0, conflict: 0 };
      for (const { status, n } of statements().counts.all()) counts[status as keyof FeedbackCounts] = n;
      return counts;
    },

    async ping() {
      // Taking the write lock proves the file is writable and not held by another process.
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
    },

    async close() {
      if (db.open) db.close();
    },
  };
}
