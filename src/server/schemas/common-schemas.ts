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
