/**
 * The join decision, shared by both backends so they cannot disagree: given feedback items in order
 * and the prediction each one resolved to (with its label as currently stored, read under a lock or
 * inside the write transaction), say what happens to each item. Items later in the same batch see the
 * labels set by earlier ones, so two labels for one prediction in one call give joined + duplicate/conflict.
 */
import type { FeedbackOutcome, FeedbackStatus } from './prediction-store.js';

/** A prediction as the join needs it. */
export interface JoinTarget {
  readonly id: string;
  readonly createdAt: number;
  readonly modelVersion: string;
  readonly score: number;
  readonly predictedClass: 0 | 1;
  readonly label: 0 | 1 | null;
}

export interface JoinItem {
  readonly feedbackId: string;
  readonly label: 0 | 1;
  readonly observedAt: number;
}

/** A pending feedback row as both backends read it back to join it. */
export interface PendingFeedbackRow {
  id: string;
  prediction_id: string | null;
  user_id: string | null;
  label: number;
  observed_at: number;
  received_at: number;
}

export interface JoinDecision {
  readonly status: FeedbackStatus;
  readonly target: JoinTarget | undefined;
}

/** Decides each item in order; `targets[i]` is item i's prediction, undefined when none matched yet. */
export function decideJoins(
  items: readonly JoinItem[],
  targets: readonly (JoinTarget | undefined)[],
): JoinDecision[] {
  const labelled = new Map<string, 0 | 1>();
  return items.map((item, i) => {
    const target = targets[i];
    if (!target) return { status: 'pending', target: undefined };
    const current = labelled.get(target.id) ?? target.label;
    if (current === null) {
      labelled.set(target.id, item.label);
      return { status: 'joined', target };
    }
    return { status: current === item.label ? 'duplicate' : 'conflict', target };
  });
}

export function toOutcome(item: JoinItem, decision: JoinDecision): FeedbackOutcome {
  const { status, target } = decision;
  if (!target) return { status, feedbackId: item.feedbackId, label: item.label };
  const prediction = {
    id: target.id,
    createdAt: target.createdAt,
    modelVersion: target.modelVersion,
    score: target.score,
    predictedClass: target.predictedClass,
  };
  if (status !== 'joined') return { status, feedbackId: item.feedbackId, label: item.label, prediction };
  return {
    status,
    feedbackId: item.feedbackId,
    label: item.label,
    prediction,
    labelDelayMs: item.observedAt - target.createdAt,
  };
}

/** Checks one feedback input; the HTTP schema validates first, this guards other callers. */
export function checkFeedbackInput(
  item: {
    predictionId?: string | undefined;
    userId?: string | undefined;
    label: number;
    observedAt: number;
    receivedAt: number;
  },
  index: number,
): void {
  if (!item.predictionId && !item.userId)
    throw new TypeError(`feedback ${index}: needs a predictionId or a userId`);
  if (item.label !== 0 && item.label !== 1) throw new TypeError(`feedback ${index}: label must be 0 or 1`);
  if (!Number.isFinite(item.observedAt)) throw new TypeError(`feedback ${index}: observedAt must be finite`);
  if (!Number.isFinite(item.receivedAt)) throw new TypeError(`feedback ${index}: receivedAt must be finite`);
}
