/**
 * Feedback on SQLite: each item resolves to its prediction (by id, or by user through the user index),
 * the shared join rule (feedback-join.ts) decides, and joined labels are set on the prediction row and
 * patched into its column block, all in one immediate write transaction per batch or page.
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
import type { FeedbackCounts, FeedbackInput, FeedbackOutcome } from '../prediction-store.js';
import { JOIN_PENDING_PAGE, yieldToEventLoop } from '../query-range.js';
import type { LabelJoin } from './block-label-patcher.js';
import type { StatementCache } from './statement-cache.js';
import { TARGET_COLUMNS, type TargetRow, type UserIndex } from './user-index.js';

export interface FeedbackWriter {
  record(items: readonly FeedbackInput[]): FeedbackOutcome[];
  joinPending(): Promise<FeedbackOutcome[]>;
  countPending(): number;
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
    pendingPage: db.prepare<[number, number, string, number], PendingFeedbackRow>(
      `SELECT id, prediction_id, user_id, label, observed_at, received_at FROM feedback
       WHERE status = 'pending' AND (received_at > ? OR (received_at = ? AND id > ?))
       ORDER BY received_at, id LIMIT ?`,
    ),
    resolvePending: db.prepare(
      `UPDATE feedback SET status = ?, joined_prediction_id = ? WHERE id = ? AND status = 'pending'`,
    ),
    countPending: db.prepare<[], number>("SELECT count(*) FROM feedback WHERE status = 'pending'").pluck(),
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
    const rows = s.pendingPage.all(after.receivedAt, after.receivedAt, after.id, JOIN_PENDING_PAGE);
    const items: FeedbackItem[] = rows.map((r) => ({
      feedbackId: r.id,
      predictionId: r.prediction_id,
      userId: r.user_id,
      label: r.label as 0 | 1,
      observedAt: r.observed_at,
    }));
    const outcomes: FeedbackOutcome[] = [];
    join(items).forEach((decision, i) => {
      if (decision.status === 'pending') return;
      const item = items[i]!;
      s.resolvePending.run(decision.status, decision.target!.id, item.feedbackId);
      outcomes.push(toOutcome(item, decision));
    });
    const last = rows.at(-1);
    const next: PendingKey | undefined = last ? { receivedAt: last.received_at, id: last.id } : undefined;
    return { outcomes, next };
  });

  return {
    record(inputs) {
      inputs.forEach(checkFeedbackInput);
      if (inputs.length === 0) return [];
      return recordBatch.immediate(inputs);
    },
    async joinPending() {
      const outcomes: FeedbackOutcome[] = [];
      let after: PendingKey | undefined = { receivedAt: Number.NEGATIVE_INFINITY, id: '' };
      while (after) {
        const page = joinPage.immediate(after);
        outcomes.push(...page.outcomes);
        after = page.next;
        if (after) await yieldToEventLoop();
      }
      return outcomes;
    },
    countPending() {
      return statements().countPending.get()!;
    },
    counts() {
      const counts = { joined: 0, pending: 0, duplicate: 0, conflict: 0 };
      for (const { status, n } of statements().counts.all()) counts[status as keyof FeedbackCounts] = n;
      return counts;
    },
  };
}
