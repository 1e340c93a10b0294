import { httpPaths } from './http-paths';
import { errorSchema } from './parts';
import { procedurePaths } from './trpc-paths';

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the router: every tRPC procedure with
 * its zod input schema turned into JSON Schema (z.toJSONSchema, the input side: defaults shown,
 * transforms described by what they accept). Nothing here restates a schema by hand; the only
 * hand-written text is the one-line summaries (summaries.ts) and the routes outside tRPC.
 */
function build() {
  const trpc = procedurePaths();
  const schemas = { Error: errorSchema, ...trpc.schemas };
  const paths = { ...trpc.paths, ...httpPaths() };
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
