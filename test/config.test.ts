/**
 * One typed config (src/config.ts, src/settings.ts): a malformed setting is refused with its name
 * (503 NOT_CONFIGURED) instead of silently falling back to a default.
 */
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, loadConfig, settingProblems } from '../src/config';
import { AppError } from '../src/errors';
import { request } from './helpers/api';

describe('settings', () => {
  it('parse to the documented defaults, and blank means unset', () => {
    expect(loadConfig({})).toEqual(DEFAULT_CONFIG);
    expect(loadConfig({ MODEL_TIMEOUT_MS: '  ', CORS_ORIGINS: '' })).toEqual(DEFAULT_CONFIG);
    const config = loadConfig({
      MODEL_TIMEOUT_MS: '5000',
      AUTH_CACHE_TTL_SECONDS: '2',
      CORS_ORIGINS: 'https://a.example, https://b.example',
    });
    expect(config.model.timeoutMs).toBe(5000);
    expect(config.auth.cacheTtlMs).toBe(2000);
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.context.knowledgeTokenBudget).toBe(DEFAULT_CONFIG.context.tokenBudget / 4);
  });

  it('name every malformed or out-of-range setting', () => {
    expect(settingProblems({ MODEL_TIMEOUT_MS: 'abc', ATTACHMENTS_MAX_COUNT: '21', OPENAI_API_STYLE: 'x' })).toEqual([
      'OPENAI_API_STYLE: expected one of responses, chat',
      'MODEL_TIMEOUT_MS: expected a whole number',
      'ATTACHMENTS_MAX_COUNT: must be at most 20',
    ]);
    expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: '0' })).toThrow(AppError);
  });

  it('answer a request 503 naming the malformed setting, with the request id', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await request('/api/trpc/chat.listSessions?input=%7B%7D', {}, { MODEL_TIMEOUT_MS: 'abc' });
    expect(res.status).toBe(503);
    expect(res.body.error?.data).toMatchObject({ appCode: 'NOT_CONFIGURED', httpStatus: 503 });
    expect(res.body.error?.message).toMatch(/MODEL_TIMEOUT_MS: expected a whole number/);
    expect(res.body.error?.data.requestId).toBe(res.headers.get('x-request-id'));
  });
});
