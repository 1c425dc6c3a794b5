/**
 * Feedback on SQLite: each item resolves to its prediction (by id, or by user through the user index),
 * the shared join rule (feedback-join.ts) decides, and joined labels are set on the prediction row and
 * patched into its column block, all in one immediate write transaction per batch or page.
 *
 * Pending items are retried only when marked (`retry = 1`) by an insert of a prediction that could
 * match them (wakePending, in the insert's transaction); dropPending deletes expired ones and the
 * oldest beyond the cap, a small batch per transaction.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  checkFeedbackInput,
  decideJoins,
  type JoinDecision,
  type JoinItem,
  type JoinTarget,
  type PendingFeedbackRow,
  toOutcome,
} from '../feedback-join.js';
import { wakeKeys } from '../pending-wake.js';
import type {
  DroppedPending,
  FeedbackCounts,
  FeedbackInput,
  FeedbackOutcome,
  PendingJoin,
  PendingLimits,
  PendingStats,
  PredictionRows,
} from '../prediction-store.js';
import { DROP_PENDING_PAGE, JOIN_PENDING_PAGE, yieldToEventLoop } from '../query-range.js';
import type { RowLayout } from '../row-layout.js';
import type { LabelJoin } from './block-label-patcher.js';
import type { StatementCache } from './statement-cache.js';
import { TARGET_COLUMNS, type TargetRow, type UserIndex } from './user-index.js';

export interface FeedbackWriter {
  record(items: readonly FeedbackInput[]): FeedbackOutcome[];
  joinPending(): Promise<PendingJoin>;
  /** Marks for a retry the pending items these predictions could match; inside the insert's transaction. */
  wakePending(rows: PredictionRows, layout: RowLayout): void;
  dropPending(limits: PendingLimits): Promise<DroppedPending>;
  countPending(): number;
  pendingStats(): PendingStats;
  counts(): FeedbackCounts;
}

/** A feedback item as both paths join it: new (recordFeedback) or pending (joinPending). */
interface FeedbackItem extends JoinItem {
  readonly predictionId: string | null;
  readonly userId: string | null;
}

/** Where joinPending goes on from: the (received_at, id) key of the last pending row seen. */
interface PendingKey {
  receivedAt: number;
  id: string;
}

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

export function createFeedbackWriter(
  db: Database.Database,
  cache: StatementCache,
  users: () => UserIndex,
  patchBlockLabels: (joins: readonly LabelJoin[]) => void,
): FeedbackWriter {
  // INDEXED BY on the pending queries: without statistics SQLite takes feedback_status, which holds
  // every pending row, and a flood of unjoinable items would be scanned again per batch.
  const statements = cache.define((db) => ({
    byId: db.prepare<[string], TargetRow>(`SELECT ${TARGET_COLUMNS} FROM predictions WHERE id = ?`),
    setLabel: db.prepare(
      `UPDATE predictions SET label = ?, label_observed_at = ?, label_feedback_id = ?
       WHERE id = ? AND label IS NULL`,
    ),
    insertFeedback: db.prepare(
      `INSERT INTO feedback (id, prediction_id, user_id, label, observed_at, received_at, status, joined_prediction_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // The marked items only (feedback_pending_retry): an item no prediction could match is never read.
    pendingPage: db.prepare<[number, string, number], PendingFeedbackRow>(
      `SELECT id, prediction_id, user_id, label, observed_at, received_at FROM feedback
       INDEXED BY feedback_pending_retry WHERE status = 'pending' AND retry = 1 AND (received_at, id) > (?, ?)
       ORDER BY received_at, id LIMIT ?`,
    ),
    resolvePending: db.prepare(
      `UPDATE feedback SET status = ?, joined_prediction_id = ?, retry = 0 WHERE id = ? AND status = 'pending'`,
    ),
    stillPending: db.prepare("UPDATE feedback SET retry = 0 WHERE id = ? AND status = 'pending'"),
    anyPending: db
      .prepare<[], number>(
        "SELECT EXISTS (SELECT 1 FROM feedback INDEXED BY feedback_pending WHERE status = 'pending')",
      )
      .pluck(),
    wakeById: db.prepare(
      `UPDATE feedback INDEXED BY feedback_pending_prediction SET retry = 1
       WHERE status = 'pending' AND retry = 0 AND prediction_id IN (SELECT value FROM json_each(?))`,
    ),
    wakeByUser: db.prepare(
      `UPDATE feedback SET retry = 1 WHERE rowid IN (
         SELECT f.rowid FROM json_each(?) AS u
         JOIN feedback AS f INDEXED BY feedback_pending_user ON f.user_id = json_extract(u.value, '$[0]')
           AND f.observed_at >= json_extract(u.value, '$[1]')
         WHERE f.status = 'pending' AND f.prediction_id IS NULL AND f.retry = 0)`,
    ),
    dropExpired: db.prepare<[number, number]>(
      `DELETE FROM feedback WHERE rowid IN (SELECT rowid FROM feedback INDEXED BY feedback_pending
       WHERE status = 'pending' AND received_at < ? ORDER BY received_at, id LIMIT ?)`,
    ),
    // The newest item beyond the cap: it and every older pending item go.
    capEdge: db.prepare<[number], { received_at: number; id: string }>(
      `SELECT received_at, id FROM feedback INDEXED BY feedback_pending WHERE status = 'pending'
       ORDER BY received_at DESC, id DESC LIMIT 1 OFFSET ?`,
    ),
    dropThrough: db.prepare<[number, string, number]>(
      `DELETE FROM feedback WHERE rowid IN (SELECT rowid FROM feedback INDEXED BY feedback_pending
       WHERE status = 'pending' AND (received_at, id) <= (?, ?) ORDER BY received_at, id LIMIT ?)`,
    ),
    countPending: db.prepare<[], number>("SELECT count(*) FROM feedback WHERE status = 'pending'").pluck(),
    pendingStats: db.prepare<[], { count: number; oldest: number | null }>(
      "SELECT count(*) AS count, min(received_at) AS oldest FROM feedback WHERE status = 'pending'",
    ),
    counts: db.prepare<[], { status: string; n: number }>(
      'SELECT status, COUNT(*) AS n FROM feedback GROUP BY status',
    ),
  }));

  /** Each item's prediction, undefined when none matched yet. */
  function resolveTargets(items: readonly FeedbackItem[]): (JoinTarget | undefined)[] {
    const s = statements();
    const byUser = users().batch(
      items.flatMap((item) => (!item.predictionId && item.userId ? [item.userId] : [])),
    );
    return items.map(({ predictionId, userId, observedAt }) => {
      // A named prediction that is not stored yet stays pending: falling back to the user's older
      // prediction would label the wrong row while the named one is still in a writer's queue.
      if (predictionId) return toTarget(s.byId.get(predictionId));
      if (userId) return toTarget(byUser(userId, observedAt));
      return undefined;
    });
  }

  /** Decides each item's join and labels the predictions joined, rows and blocks; in the transaction. */
  function join(items: readonly FeedbackItem[]): JoinDecision[] {
    const s = statements();
    const decisions = decideJoins(items, resolveTargets(items));
    const joins: LabelJoin[] = [];
    decisions.forEach((decision, i) => {
      if (decision.status !== 'joined') return;
      const { feedbackId, label, observedAt } = items[i]!;
      const predictionId = decision.target!.id;
      s.setLabel.run(label, observedAt, feedbackId, predictionId);
      joins.push({ predictionId, label, observedAt });
    });
    patchBlockLabels(joins);
    return decisions;
  }

  // The cap the pending items were last brought within, undefined once this connection records pending
  // items: the check reads up to `max` index entries, so an idle server (or one whose feedback all
  // joins) skips it.
  let withinCap: number | undefined;

  const recordBatch = db.transaction((inputs: readonly FeedbackInput[]): FeedbackOutcome[] => {
    const s = statements();
    const items: FeedbackItem[] = inputs.map((input) => ({
      feedbackId: randomUUID(),
      predictionId: input.predictionId ?? null,
      userId: input.userId ?? null,
      label: input.label,
      observedAt: input.observedAt,
    }));
    const decisions = join(items);
    if (decisions.some((d) => d.status === 'pending')) withinCap = undefined;
    return inputs.map((input, i) => {
      const item = items[i]!;
      const decision = decisions[i]!;
      s.insertFeedback.run(
        item.feedbackId,
        item.predictionId,
        item.userId,
        item.label,
        item.observedAt,
        input.receivedAt,
        decision.status,
        decision.target?.id ?? null,
      );
      return toOutcome(item, decision);
    });
  });

  const joinPage = db.transaction((after: PendingKey) => {
    const s = statements();
    const rows = s.pendingPage.all(after.receivedAt, after.id, JOIN_PENDING_PAGE);
    const items: FeedbackItem[] = rows.map((r) => ({
      feedbackId: r.id,
      predictionId: r.prediction_id,
      userId: r.user_id,
      label: r.label as 0 | 1,
      observedAt: r.observed_at,
    }));
    const outcomes: FeedbackOutcome[] = [];
    join(items).forEach((decision, i) => {
      const item = items[i]!;
      // Tried and still unmatched: not read again until a prediction that could match it is written.
      if (decision.status === 'pending') {
        s.stillPending.run(item.feedbackId);
        return;
      }
      s.resolvePending.run(decision.status, decision.target!.id, item.feedbackId);
      outcomes.push(toOutcome(item, decision));
    });
    const last = rows.at(-1);
    const next: PendingKey | undefined = last ? { receivedAt: last.received_at, id: last.id } : undefined;
    return { outcomes, next, tried: rows.length };
  });

  /** Deletes up to DROP_PENDING_PAGE items with `drop`, one immediate transaction per page. */
  async function dropPages(drop: () => number): Promise<number> {
    let dropped = 0;
    for (;;) {
      const n = db.transaction(drop).immediate();
      dropped += n;
      if (n < DROP_PENDING_PAGE) return dropped;
      await yieldToEventLoop();
    }
  }

  return {
    record(inputs) {
      inputs.forEach(checkFeedbackInput);
      if (inputs.length === 0) return [];
      return recordBatch.immediate(inputs);
    },
    async joinPending() {
      const outcomes: FeedbackOutcome[] = [];
      let tried = 0;
      let after: PendingKey | undefined = { receivedAt: Number.NEGATIVE_INFINITY, id: '' };
      while (after) {
        const page = joinPage.immediate(after);
        outcomes.push(...page.outcomes);
        tried += page.tried;
        after = page.next;
        if (after) await yieldToEventLoop();
      }
      return { outcomes, tried };
    },
    wakePending(rows, layout) {
      const s = statements();
      // The usual case, nothing pending, costs one probe of the pending index per batch.
      if (rows.count === 0 || !s.anyPending.get()) return;
      const keys = wakeKeys(rows, layout);
      s.wakeById.run(JSON.stringify(keys.predictionIds));
      if (keys.userIds.length > 0)
        s.wakeByUser.run(JSON.stringify(keys.userIds.map((u, i) => [u, keys.earliest[i]])));
    },
    async dropPending({ max, receivedBefore }) {
      const s = statements();
      const expired = await dropPages(() => s.dropExpired.run(receivedBefore, DROP_PENDING_PAGE).changes);
      if (!Number.isFinite(max) || (withinCap !== undefined && max >= withinCap)) return { cap: 0, expired };
      withinCap = max;
      const edge = s.capEdge.get(max);
      const cap = edge
        ? await dropPages(() => s.dropThrough.run(edge.received_at, edge.id, DROP_PENDING_PAGE).changes)
        : 0;
      return { cap, expired };
    },
    countPending() {
      return statements().countPending.get()!;
    },
    pendingStats() {
      const { count, oldest } = statements().pendingStats.get()!;
      return { count, oldestReceivedAt: oldest };
    },
    counts() {
      const counts = { joined: 0, pending: 0, duplicate: 0, conflict: 0 };
      for (const { status, n } of statements().counts.all()) counts[status as keyof FeedbackCounts] = n;
      return counts;
    },
  };
}
