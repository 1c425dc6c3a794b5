/**
 * `--ack commit`: POST /predict and POST /log answer only once the store has committed the predictions
 * they queued (the writer's committed(): concurrent requests share a write). A write that fails is
 * retried; a request whose predictions are not written within `--commit-timeout` answers 503, and the
 * predictions stay queued: they may still be stored, so the 503 means "not known to be stored"
 * (docs/feedback.md, "Durability").
 */
import type { AppContext } from './app-context.js';
import { HttpError } from './error-handler.js';

/** Resolves once `count` predictions just queued are committed; throws CW_STORE_COMMIT_TIMEOUT when not in time. */
export async function waitForCommit(ctx: AppContext, count: number): Promise<void> {
  const ms = ctx.config.commitTimeout;
  if (await ctx.writer.committed(ms)) return;
  throw new HttpError(
    503,
    'CW_STORE_COMMIT_TIMEOUT',
    `the store did not commit ${count === 1 ? 'the prediction' : `these ${count} predictions`} within ${ms} ms (${ctx.writer.size} queued; /readyz says why): not known to be stored, though still queued`,
    { 'retry-after': '1' },
  );
}
