import type { z } from 'zod';
import { appRouter } from '../trpc/router';
import { errorResponses, eventStream, jsonSchema, ref } from './parts';
import { summaries } from './summaries';

type Procedure = { _def: { type: 'query' | 'mutation' | 'subscription'; inputs: z.ZodType[] } };

const ok = {
  description: 'The result, under result.data',
  content: {
    'application/json': {
      schema: { type: 'object', properties: { result: { type: 'object', properties: { data: {} } } } },
    },
  },
};

function inputSchema(p: Procedure): Record<string, unknown> {
  const input = p._def.inputs[0];
  return input ? jsonSchema(input) : { type: 'null' };
}

/** The path item of one procedure: POST for a mutation, GET for a query, GET (SSE) for a subscription. */
function pathItem(name: string, type: Procedure['_def']['type'], schemaName: string) {
  const [tag] = name.split('.');
  const common = { operationId: name, summary: summaries[name] ?? name, tags: [tag] };
  const queryParam = {
    name: 'input',
    in: 'query',
    description: 'The input as JSON, URL-encoded (plain or wrapped as {"json": …}).',
    content: { 'application/json': { schema: ref(schemaName) } },
  };
  if (type === 'mutation') {
    const wrapped = { type: 'object', properties: { json: ref(schemaName) }, required: ['json'] };
    return {
      post: {
        ...common,
        description: 'tRPC mutation. The body is the input, plain or wrapped as {"json": …}.',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { anyOf: [ref(schemaName), wrapped] } } },
        },
        responses: { 200: ok, ...errorResponses },
      },
    };
  }
  if (type === 'query') {
    return {
      get: {
        ...common,
        description: 'tRPC query.',
        parameters: [queryParam],
        responses: { 200: ok, ...errorResponses },
      },
    };
  }
  return {
    get: {
      ...common,
      description:
        'tRPC subscription over Server-Sent Events (POST with the input as body is accepted too). Errors arrive as a `serialized-error` event carrying data.httpStatus.',
      parameters: [
        queryParam,
        { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } },
      ],
      responses: { 200: eventStream('An SSE stream'), ...errorResponses },
    },
  };
}

/**
 * Every tRPC procedure of the router, with its zod input schema as JSON Schema (`<name>.input` in
 * components/schemas): nothing here restates a schema by hand.
 */
export function procedurePaths(): { paths: Record<string, unknown>; schemas: Record<string, unknown> } {
  const schemas: Record<string, unknown> = {};
  const paths: Record<string, unknown> = {};
  const procedures = appRouter._def.procedures as unknown as Record<string, Procedure>;
  for (const [name, procedure] of Object.entries(procedures).sort(([a], [b]) => a.localeCompare(b))) {
    const schemaName = `${name}.input`;
    schemas[schemaName] = inputSchema(procedure);
    paths[`/api/trpc/${name}`] = pathItem(name, procedure._def.type, schemaName);
  }
  return { paths, schemas };
}
