/** Shapes shared by every route: Fastify's error body, texts without NUL, client times. */
import { Type } from '@sinclair/typebox';

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String(),
    error: Type.String(),
    message: Type.String(),
  },
  { $id: 'ErrorBody', description: "Fastify's error shape; `message` names the field and the rule." },
);

/**
 * Texts the store keeps (customer ids, categories, prediction ids) may hold any character but U+0000:
 * PostgreSQL refuses it in text, and one such value would fail its whole batch at every retry, holding
 * up every prediction queued behind it. Refused here, for both stores alike, with a message of its own
 * (error-handler.ts).
 */
export const NO_NUL_PATTERN = '^[^\\u0000]*$';

/**
 * A time a client sends (client-time.ts checks its range): ISO 8601 with a zone, or epoch ms. `format`
 * applies to strings only and `minimum` to numbers only, so one schema covers both forms.
 */
export function clientTimeSchema(description: string) {
  return Type.Optional(
    Type.Unsafe<string | number>({
      type: ['string', 'integer'],
      format: 'date-time',
      minimum: 0,
      description,
    }),
  );
}
