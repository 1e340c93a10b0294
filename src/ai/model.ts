import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModel } from 'ai';
import type { Env } from '../env';
import { AppError } from '../errors';
import { createOfflineModel, OFFLINE_MODEL_ID } from './offline-model';

export type ResolvedModel = {
  model: LanguageModel;
  /** What metadata.model records: `provider/model-id`. */
  label: string;
  offline: boolean;
};

export const FALLBACK_DEFAULT_MODEL = 'gpt-4o-mini';

type ModelEnv = Pick<
  Env,
  'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'OPENAI_API_STYLE' | 'DEFAULT_MODEL' | 'OFFLINE_MODEL'
>;

/** The refusal when no model can answer: a deployment without a provider key and no offline opt-in. */
export function modelNotConfigured(env: Pick<Env, 'OPENAI_API_KEY' | 'OFFLINE_MODEL'>): AppError | undefined {
  if (env.OPENAI_API_KEY || env.OFFLINE_MODEL === '1') return undefined;
  return new AppError(
    'NOT_CONFIGURED',
    'No model provider is configured: the operator must set OPENAI_API_KEY (OFFLINE_MODEL=1 enables the built-in offline model, for local development only).',
  );
}

/** Refuses a send that wants a reply before anything is stored, when no model could write it. */
export function assertModelConfigured(env: Pick<Env, 'OPENAI_API_KEY' | 'OFFLINE_MODEL'>): void {
  const refusal = modelNotConfigured(env);
  if (refusal) throw refusal;
}

/**
 * The only reader of provider settings. With OPENAI_API_KEY the persona's model (or DEFAULT_MODEL)
 * is called through @ai-sdk/openai at OPENAI_BASE_URL (any OpenAI-compatible server); without it
 * the built-in offline model answers only when OFFLINE_MODEL=1 (`npm run dev`, tests), so a
 * production Worker missing its key never passes an echo off as replies.
 */
export function resolveModel(env: ModelEnv, persona: { name: string; model: string | null }): ResolvedModel {
  if (!env.OPENAI_API_KEY) {
    const refusal = modelNotConfigured(env);
    // Sends are refused before storing anything (assertModelConfigured); should one get here, the
    // reply ends INCOMPLETE with this error rather than staying STREAMING.
    if (refusal) return { model: failingModel(refusal), label: 'none/not-configured', offline: false };
    return {
      model: createOfflineModel({ personaName: persona.name }),
      label: `offline/${OFFLINE_MODEL_ID}`,
      offline: true,
    };
  }
  const provider = createOpenAI({
    apiKey: env.OPENAI_API_KEY,
    ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
  });
  const modelId = persona.model ?? env.DEFAULT_MODEL ?? FALLBACK_DEFAULT_MODEL;
  const model = env.OPENAI_API_STYLE === 'chat' ? provider.chat(modelId) : provider.responses(modelId);
  return { model, label: `openai/${modelId}`, offline: false };
}

function failingModel(error: AppError): LanguageModel {
  const fail = () => Promise.reject(error);
  return {
    specificationVersion: 'v4',
    provider: 'none',
    modelId: 'not-configured',
    supportedUrls: {},
    doGenerate: fail,
    doStream: fail,
  };
}
