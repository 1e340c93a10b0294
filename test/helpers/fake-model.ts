import { env } from 'cloudflare:workers';
import { FAKE_MODELS_PATH, type FakeBehaviour } from './fake-behaviour';

export type { FakeBehaviour } from './fake-behaviour';

/** The local model server's root (its OpenAI base URL without `/v1`), from the test env. */
export function modelServerUrl(): string {
  return env.OPENAI_BASE_URL?.replace(/\/v1$/, '') ?? '';
}

/**
 * Sets how the fake model `model` (a `fake:<token>` id from fakeModel) answers from now on: a test
 * whose persona keeps one model can change the behaviour between its turns.
 */
export async function configureFakeModel(model: string, behaviour: FakeBehaviour): Promise<void> {
  const token = model.replace(/^fake:/, '');
  const res = await fetch(`${modelServerUrl()}${FAKE_MODELS_PATH}/${token}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(behaviour),
  });
  if (!res.ok) throw new Error(`configureFakeModel: HTTP ${res.status}`);
}

/**
 * A model id the local server answers with `behaviour` (delay, status, failures, cut, stall, fixed
 * reply; nothing given: the default echo). Give it to a persona as its `model`.
 */
export async function fakeModel(behaviour: FakeBehaviour = {}): Promise<string> {
  const model = `fake:${crypto.randomUUID()}`;
  await configureFakeModel(model, behaviour);
  return model;
}
