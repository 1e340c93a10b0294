import { z } from 'zod';

/** JSON Schema of a zod schema's input side (defaults shown, transforms described by what they accept). */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** tRPC's error body, as components/schemas/Error. */
export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        message: { type: 'string' },
        code: { type: 'integer' },
        data: {
          type: 'object',
          properties: {
            code: { type: 'string' },
            httpStatus: { type: 'integer' },
            path: { type: 'string' },
            appCode: { type: 'string' },
          },
        },
      },
      required: ['message', 'code', 'data'],
    },
  },
  required: ['error'],
};

export const errorResponses = {
  default: { description: 'Error (4xx/5xx)', content: { 'application/json': { schema: ref('Error') } } },
};

export const eventStream = (description: string) => ({
  description,
  content: { 'text/event-stream': { schema: { type: 'string' } } },
});
