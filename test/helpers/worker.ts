import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { createApp } from '../../src/app';
import type { Env } from '../../src/env';

/** The Worker under test: its real default export's fetch handler in workerd (typed in test/env.d.ts). */
export const worker = exports.default;

/** The origin test requests are addressed to (the Worker answers any host). */
export const BASE = 'http://api.test';

/**
 * The answer of an app built in this isolate with `vars` over the test env (settings, or dev-only
 * variables such as PLAYGROUND_DEMO_URL), as a deployment with other settings would answer; `done`
 * waits for the work it left running (waitUntil).
 */
export async function fetchWithEnv(request: Request, vars: Partial<Env> | Record<string, string>) {
  const ctx = createExecutionContext();
  const res = await createApp().fetch(request, { ...env, ...vars }, ctx);
  return { res, done: () => waitOnExecutionContext(ctx) };
}
