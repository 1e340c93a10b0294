import { completionRequest } from '../services/openai-compat';
import { errorResponses, eventStream, jsonSchema } from './parts';

/** The AI SDK UI message stream (useChat's transport and resume). */
const uiChatPaths = {
  '/api/chat': {
    post: {
      operationId: 'uiChat',
      summary: 'AI SDK UI message stream (useChat transport)',
      tags: ['chat'],
      description: 'Body: what DefaultChatTransport sends ({ id: <sessionId>, messages: [...] }); see the README.',
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: {
        200: eventStream('UI message stream'),
        ...errorResponses,
      },
    },
  },
  '/api/chat/{sessionId}/stream': {
    get: {
      operationId: 'uiChatResume',
      summary: "Resume the session's reply in progress (useChat resume)",
      tags: ['chat'],
      parameters: [{ name: 'sessionId', in: 'path', required: true, schema: { type: 'string', maxLength: 100 } }],
      responses: {
        200: eventStream('UI message stream'),
        204: { description: 'No reply in progress' },
        ...errorResponses,
      },
    },
  },
};

// The OpenAI-compatible routes: Bearer key (the organization is the key's), errors in OpenAI's shape.
const bearer = [{ bearer: [] }];
const openAiError = {
  default: {
    description: 'Error (4xx/5xx) in OpenAI’s shape: {error:{message,type,code,param}}',
    content: { 'application/json': { schema: { type: 'object' } } },
  },
};

const modelPaths = {
  '/v1/models': {
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
  },
  '/v1/models/{id}': {
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
  },
};

function openAiPaths() {
  const completionSchema = jsonSchema(completionRequest);
  return {
    '/v1/chat/completions': {
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
            description:
              'chat.completion, or with stream: true an SSE stream of chat.completion.chunk ending in [DONE]',
            content: {
              'application/json': { schema: { type: 'object' } },
              'text/event-stream': { schema: { type: 'string' } },
            },
          },
          ...openAiError,
        },
      },
    },
    ...modelPaths,
  };
}

const healthPath = {
  '/health': {
    get: {
      operationId: 'health',
      summary: 'Liveness and a database round trip',
      tags: ['operations'],
      security: [],
      responses: { 200: { description: 'Healthy' }, 503: { description: 'Database unreachable' } },
    },
  },
};

/** The routes outside tRPC: the AI SDK UI stream, the OpenAI-compatible routes and /health. */
export function httpPaths(): Record<string, unknown> {
  return { ...uiChatPaths, ...openAiPaths(), ...healthPath };
}
