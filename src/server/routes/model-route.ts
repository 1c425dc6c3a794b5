/** GET /model: what is served, how it was validated, and a summary of its reference profile. */
import type { FastifyInstance } from 'fastify';
import { FEATURES } from '../../data/customer-schema.js';
import type { ChurnModel } from '../../model/churn-model.js';
import type { AppContext } from '../app-context.js';
import { HttpError } from '../error-handler.js';

export function describeModel(model: ChurnModel, path: string | undefined) {
  const p = model.profile;
  return {
    version: model.info.version,
    trained_at: model.info.trainedAt,
    path: path ?? null,
    threshold: model.info.threshold,
    threshold_rule: model.info.thresholdRule,
    validation: model.info.validation,
    schema: FEATURES.map((f) => ({
      name: f.name,
      also_accepted: f.name.toLowerCase(),
      kind: f.kind,
      nullable: true,
    })),
    reference: {
      rows: p.rowCount,
      class_balance: p.classBalance,
      predicted_churn_rate: p.predictedChurnRate,
      score_bins: p.score.labels.map((bin, i) => ({ bin, share: p.score.shares[i] ?? 0 })),
      features: Object.fromEntries(
        Object.entries(p.features).map(([name, f]) => [
          name,
          {
            kind: f.kind,
            missing_share: f.missingShare,
            bins: f.labels.map((bin, i) => ({ bin, share: f.shares[i] ?? 0 })),
            ...(f.kind === 'numeric' ? { min: f.min, max: f.max, mean: f.mean, std: f.std } : {}),
          },
        ]),
      ),
      drift_thresholds: p.thresholds
        ? { window_size: p.thresholds.windowSize, windows: p.thresholds.windows, rule: p.thresholds.rule }
        : null,
    },
  };
}

export function registerModelRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get(
    '/model',
    { schema: { summary: 'The served model and its reference profile', tags: ['model'] } },
    async () => {
      const loaded = ctx.models.current;
      if (!loaded) throw new HttpError(503, 'CW_NO_MODEL', 'no model is loaded');
      return describeModel(loaded.model, loaded.path);
    },
  );
}
