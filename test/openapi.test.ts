import { describe, expect, it } from 'vitest';
import { request } from './helpers/api';
import { procedureKinds } from './helpers/procedures';

/** The parts of the OpenAPI document these tests read. */
type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  maxLength?: number;
  maxItems?: number;
  default?: unknown;
};
type Operation = {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
};
type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, unknown> };
};

describe('OpenAPI document', () => {
  it('lists every procedure of the router with its generated input schema', async () => {
    const res = await request<OpenApiDocument>('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');

    const documented = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/trpc/'))
      .map(([path, ops]) => [path.slice('/api/trpc/'.length), Object.keys(ops)]);
    expect(documented.map(([name]) => name).sort()).toEqual(Object.keys(procedureKinds).sort());
    for (const [name, methods] of documented) {
      const type = procedureKinds[name as string];
      expect(methods, name as string).toEqual([type === 'mutation' ? 'post' : 'get']);
      expect(doc.components.schemas[`${name}.input`], name as string).toBeTypeOf('object');
    }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/chat',
        '/api/chat/{sessionId}/stream',
        '/health',
        '/v1/chat/completions',
        '/v1/models',
        '/v1/models/{id}',
      ]),
    );

    // Generated from the zod schemas: the bounds the API enforces are the ones documented.
    const search = doc.components.schemas['search.messages.input'];
    expect(search?.properties?.query).toMatchObject({ type: 'string', maxLength: 200 });
    expect(search?.properties?.limit).toMatchObject({ type: 'integer', maximum: 50, default: 20 });
    expect(search?.required).toEqual(['query']);
    const rate = doc.components.schemas['feedback.rate.input'];
    expect(rate?.properties?.rating?.enum).toEqual(['UP', 'DOWN']);
    const send = doc.components.schemas['chat.sendMessage.input'];
    expect(send?.properties?.content?.maxLength).toBe(100_000);
    expect(send?.properties?.role?.default).toBe('USER');
    const completion = doc.paths['/v1/chat/completions']?.post?.requestBody?.content['application/json']?.schema;
    expect(completion?.required).toEqual(expect.arrayContaining(['model', 'messages']));
    expect(completion?.properties?.messages?.maxItems).toBe(1_000);
    const list = doc.paths['/api/trpc/chat.listSessions']?.get;
    expect(list?.parameters?.[0]).toMatchObject({ name: 'input', in: 'query' });
    expect(doc.components.securitySchemes.apiKey).toEqual({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
  });

  it('serves a docs page that renders the document, under a strict CSP', async () => {
    const res = await request<string>('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'nonce-/);
    expect(res.body).toContain("fetch('/openapi.json')");
    expect(res.body).not.toMatch(/https?:\/\/(?!www\.w3)/);
  });
});
