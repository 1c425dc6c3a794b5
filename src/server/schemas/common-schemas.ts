/** Shapes shared by every route: Fastify's error body. */
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
