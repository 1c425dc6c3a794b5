/**
 * Which pending feedback a batch of predictions could match, as both backends mark it for a retry at
 * insert time (docs/feedback.md, "Pending feedback"): items naming one of the batch's prediction ids,
 * and items naming one of its users observed at or after that user's earliest prediction in the batch
 * (the join takes the latest prediction at or before observed_at, so an earlier outcome cannot match).
 */
import type { PredictionRows } from './prediction-store.js';
import { CREATED_AT_SLOT, ID_SLOT, type RowLayout, USER_ID_SLOT } from './row-layout.js';

export interface WakeKeys {
  readonly predictionIds: string[];
  readonly userIds: string[];
  /** Per user of userIds, the earliest created_at of their predictions in the batch. */
  readonly earliest: number[];
}

export function wakeKeys(rows: PredictionRows, layout: RowLayout): WakeKeys {
  const predictionIds: string[] = new Array(rows.count);
  const firstSeen = new Map<string, number>();
  const { textWidth, numberWidth } = layout;
  for (let r = 0; r < rows.count; r++) {
    predictionIds[r] = rows.texts[r * textWidth + ID_SLOT] as string;
    const userId = rows.texts[r * textWidth + USER_ID_SLOT];
    if (userId === null || userId === undefined) continue;
    const createdAt = rows.numbers[r * numberWidth + CREATED_AT_SLOT]!;
    const seen = firstSeen.get(userId);
    if (seen === undefined || createdAt < seen) firstSeen.set(userId, createdAt);
  }
  return { predictionIds, userIds: [...firstSeen.keys()], earliest: [...firstSeen.values()] };
}
