import { z } from 'zod';
import { completionRequest } from '../services/openai-compat';
import { appRouter } from '../trpc/router';

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the router: every tRPC procedure with
 * its zod input schema turned into JSON Schema (z.toJSONSchema, the input side: defaults shown,
 * transforms described by what they accept). Nothing here restates a schema by hand; the only
 * hand-written text is the one-line summaries.
 */

type Procedure = { _def: { type: 'query' | 'mutation' | 'subscription'; inputs: z.ZodType[] } };

const summaries: Record<string, string> = {
  'persona.create': 'Create a persona',
  'persona.list': 'List personas, newest first',
  'persona.get': 'Get a persona',
  'persona.update': 'Update a persona (bumps its version)',
  'persona.delete': 'Soft-delete a persona',
  'chat.createSession': 'Start a chat session with a persona',
  'chat.listSessions': 'List sessions, newest activity first',
  'chat.getSession': 'Get a session with all its messages',
  'chat.updateSession': 'Rename, archive or reactivate a session',
  'chat.deleteSession': 'Delete a session with its messages',
  'chat.deleteMessage': 'Delete one message (a user message with its replies) from the history',
  'chat.listMessages': "Page through a session's messages",
  'chat.sendMessage': 'Send a message and get the stored reply',
  'chat.streamMessage': 'Send a message and stream the reply (SSE)',
  'chat.resumeReply': 'Re-attach to a reply by id (SSE)',
  'chat.stopReply': 'Stop a reply being generated',
  'feedback.rate': 'Rate an assistant reply (the latest rating wins)',
  'feedback.remove': "Remove a reply's rating",
  'feedback.listForSession': "Ratings of a session's replies",
  'feedback.listForPersona': 'Rated replies of a persona, with filters',
  'search.messages': "Full-text search of the organization's messages",
  'export.session': 'Export a session as lossless JSON (paged)',
  'export.markdown': 'Export a session as Markdown (paged)',
  'export.importSession': 'Create a session from an export',
};

const errorSchema = {
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

function inputSchema(p: Procedure): Record<string, unknown> {
  const input = p._def.inputs[0];
  if (!input) return { type: 'null' };
  const { $schema: _ignored, ...schema } = z.toJSONSchema(input, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return schema;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponses = {
  default: { description: 'Error (4xx/5xx)', content: { 'application/json': { schema: ref('Error') } } },
};
const ok = (description: string) => ({
  description,
  content: {
    'application/json': {
      schema: { type: 'object', properties: { result: { type: 'object', properties: { data: {} } } } },
    },
  },
});

function build() {
  const schemas: Record<string, unknown> = { Error: errorSchema };
  const paths: Record<string, unknown> = {};
  const procedures = appRouter._def.procedures as unknown as Record<string, Procedure>;
  for (const [name, procedure] of Object.entries(procedures).sort(([a], [b]) => a.localeCompare(b))) {
    const type = procedure._def.type;
    const schemaName = `${name}.input`;
    schemas[schemaName] = inputSchema(procedure);
    const [tag] = name.split('.');
    const common = { operationId: name, summary: summaries[name] ?? name, tags: [tag] };
    const queryParam = {
      name: 'input',
      in: 'query',
      description: 'The input as JSON, URL-encoded (plain or wrapped as {"json": …}).',
      content: { 'application/json': { schema: ref(schemaName) } },
    };
    if (type === 'mutation') {
      paths[`/api/trpc/${name}`] = {
        post: {
          ...common,
          description: 'tRPC mutation. The body is the input, plain or wrapped as {"json": …}.',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  anyOf: [
                    ref(schemaName),
                    { type: 'object', properties: { json: ref(schemaName) }, required: ['json'] },
                  ],
                },
              },
            },
          },
          responses: { 200: ok('The result, under result.data'), ...errorResponses },
        },
      };
    } else if (type === 'query') {
      paths[`/api/trpc/${name}`] = {
        get: {
          ...common,
          description: 'tRPC query.',
          parameters: [queryParam],
          responses: { 200: ok('The result, under result.data'), ...errorResponses },
        },
      };
    } else {
      paths[`/api/trpc/${name}`] = {
        get: {
          ...common,
          description:
            'tRPC subscription over Server-Sent Events (POST with the input as body is accepted too). Errors arrive as a `serialized-error` event carrying data.httpStatus.',
          parameters: [
            queryParam,
            { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } },
          ],
          responses: {
            200: { description: 'An SSE stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
            ...errorResponses,
          },
        },
      };
    }
  }
  paths['/api/chat'] = {
    post: {
      operationId: 'uiChat',
      summary: 'AI SDK UI message stream (useChat transport)',
      tags: ['chat'],
      description: 'Body: what DefaultChatTransport sends ({ id: <sessionId>, messages: [...] }); see the README.',
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: {
        200: { description: 'UI message stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        ...errorResponses,
      },
    },
  };
  paths['/api/chat/{sessionId}/stream'] = {
    get: {
      operationId: 'uiChatResume',
      summary: "Resume the session's reply in progress (useChat resume)",
      tags: ['chat'],
      parameters: [{ name: 'sessionId', in: 'path', required: true, schema: { type: 'string', maxLength: 100 } }],
      responses: {
        200: { description: 'UI message stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        204: { description: 'No reply in progress' },
        ...errorResponses,
      },
    },
  };
  // OpenAI-compatible routes: Bearer key (the organization is the key's), errors in OpenAI's shape.
  const bearer = [{ bearer: [] }];
  const openAiError = {
    default: {
      description: 'Error (4xx/5xx) in OpenAI’s shape: {error:{message,type,code,param}}',
      content: { 'application/json': { schema: { type: 'object' } } },
    },
  };
  const { $schema: _s, ...completionSchema } = z.toJSONSchema(completionRequest, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  paths['/v1/chat/completions'] = {
    post: {
      operationId: 'openAiChatCompletions',
      summary: 'OpenAI-compatible chat completion with a persona (model = persona id), streamed or not',
      tags: ['openai'],
      security: bearer,
      parameters: [
        {
          name: 'X-Chat-Session-ID',
          in: 'header',
          required: false,
          description:
            'Store the turn in this session (only the last user message is sent; the session holds the history).',
          schema: { type: 'string', maxLength: 100 },
        },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: completionSchema } } },
      responses: {
        200: {
          description: 'chat.completion, or with stream: true an SSE stream of chat.completion.chunk ending in [DONE]',
          content: {
            'application/json': { schema: { type: 'object' } },
            'text/event-stream': { schema: { type: 'string' } },
          },
        },
        ...openAiError,
      },
    },
  };
  paths['/v1/models'] = {
    get: {
      operationId: 'openAiListModels',
      summary: "The organization's personas as OpenAI models",
      tags: ['openai'],
      security: bearer,
      responses: {
        200: { description: 'A list of models', content: { 'application/json': { schema: { type: 'object' } } } },
        ...openAiError,
      },
    },
  };
  paths['/v1/models/{id}'] = {
    get: {
      operationId: 'openAiGetModel',
      summary: 'One persona as an OpenAI model',
      tags: ['openai'],
      security: bearer,
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 100 } }],
      responses: {
        200: { description: 'A model', content: { 'application/json': { schema: { type: 'object' } } } },
        ...openAiError,
      },
    },
  };
  paths['/health'] = {
    get: {
      operationId: 'health',
      summary: 'Liveness and a database round trip',
      tags: ['operations'],
      security: [],
      responses: { 200: { description: 'Healthy' }, 503: { description: 'Database unreachable' } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Persona Conversations API',
      version: '0.1.0',
      description:
        'Multi-tenant conversations with AI personas. tRPC v11 over HTTP: queries are GET with ?input=<URL-encoded JSON>, mutations POST with a JSON body; results under result.data. The operator API (/admin/v1) is not part of this document.',
    },
    servers: [{ url: '/' }],
    security: [{ apiKey: [], organization: [] }],
    tags: [
      { name: 'persona' },
      { name: 'chat' },
      { name: 'feedback' },
      { name: 'search' },
      { name: 'export' },
      { name: 'openai' },
      { name: 'operations' },
    ],
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        organization: { type: 'apiKey', in: 'header', name: 'X-Organization-ID' },
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key, for the /v1 OpenAI-compatible routes' },
      },
      schemas,
    },
    paths,
  };
}

/**
 * Built on first use and kept for the isolate's life: a pure function of the deployed code, the
 * same for every request and tenant (a documented module-scope cache).
 */
let cached: string | undefined;

export function openApiJson(): string {
  cached ??= JSON.stringify(build());
  return cached;
}
