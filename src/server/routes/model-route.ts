/**
 * GET /model: what is served, the fields it accepts (its schema: names and their other spellings, kinds,
 * categories kept, the id and the target's labels), how it was validated, and a summary of its
 * reference profile.
 */
import type { FastifyInstance } from 'fastify';
import type { ChurnModel } from '../../model/churn-model.js';
import type { AppContext } from '../app-context.js';
import { HttpError } from '../error-handler.js';
import type { RecordFields } from '../record-fields.js';

/**
 * The categories a model keeps for a categorical feature: its schema's list, or (a schema inferred
 * without one) the top categories of its reference profile; undefined for a numeric feature.
 */
export function keptCategories(model: ChurnModel, name: string): readonly string[] | undefined {
  const f = model.schema.features.find((m) => m.name === name);
  if (f?.kind !== 'categorical') return undefined;
  const fp = model.profile.features[name];
  return f.categories ?? (fp?.kind === 'categorical' ? fp.categories : []);
}

/** The accepted fields: `fields` are the served schema's, the categories the model's own. */
function describeFields(model: ChurnModel, fields: RecordFields) {
  return fields.features.map((f, i) => {
    const categories = keptCategories(model, f.name);
    return {
      name: f.name,
      also_accepted: fields.featureSpellings[i]!.slice(1),
      kind: f.kind,
      nullable: true,
      ...(categories ? { categories } : {}),
    };
  });
}

export function describeModel(model: ChurnModel, path: string | undefined, fields: RecordFields) {
  const p = model.profile;
  const target = model.schema.target;
  return {
    version: model.info.version,
    trained_at: model.info.trainedAt,
    path: path ?? null,
    threshold: model.info.threshold,
    threshold_rule: model.info.thresholdRule,
    validation: model.info.validation,
    schema: describeFields(model, fields),
    id: { column: model.schema.id ?? null, accepted: fields.idSpellings },
    target: { column: target.column, positive: target.positive, negative: target.negative },
    // The artifact's schema.json as it is, for tools that read CSVs the way the model does (the simulators).
    dataset_schema: model.schema,
    feature_importance: model.info.featureImportance ?? null,
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
      // How CBPE turns scores into the probabilities it estimates with (none in older artifacts).
      cbpe_calibration: p.cbpe
        ? {
            method: p.cbpe.method,
            reason: p.cbpe.reason,
            ece_before: p.cbpe.eceBefore,
            ece_after: p.cbpe.eceAfter,
            rows: p.cbpe.rows,
          }
        : null,
      drift_thresholds: p.thresholds
        ? { window_size: p.thresholds.windowSize, windows: p.thresholds.windows, rule: p.thresholds.rule }
        : null,
    },
  };
}

export function registerModelRoute(app: FastifyInstance, ctx: AppContext, fields: RecordFields): void {
  app.get(
    '/model',
    { schema: { summary: 'The served model and its reference profile', tags: ['model'] } },
    async () => {
      const loaded = ctx.models.current;
      if (!loaded) throw new HttpError(503, 'CW_NO_MODEL', 'no model is loaded');
      return describeModel(loaded.model, loaded.path, fields);
    },
  );
}
