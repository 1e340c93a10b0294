import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModel } from 'ai';
import type { Config } from '../config';
import { AppError } from '../errors';
import { createOfflineModel, OFFLINE_MODEL_ID } from './offline-model';

export type ResolvedModel = {
  model: LanguageModel;
  /** What metadata.model records: `provider/model-id`. */
  label: string;
  offline: boolean;
};

export const FALLBACK_DEFAULT_MODEL = 'gpt-4o-mini';

/** The provider settings (config.model). */
export type ModelConfig = Pick<Config['model'], 'apiKey' | 'baseUrl' | 'apiStyle' | 'defaultModel' | 'offline'>;

/** The refusal when no model can answer: a deployment without a provider key and no offline opt-in. */
export function modelNotConfigured(config: Pick<ModelConfig, 'apiKey' | 'offline'>): AppError | undefined {
  if (config.apiKey || config.offline) return undefined;
  return new AppError(
    'NOT_CONFIGURED',
    'No model provider is configured: the operator must set OPENAI_API_KEY (OFFLINE_MODEL=1 enables the built-in offline model, for local development only).',
  );
}

/** Refuses a send that wants a reply before anything is stored, when no model could write it. */
export function assertModelConfigured(config: Pick<ModelConfig, 'apiKey' | 'offline'>): void {
  const refusal = modelNotConfigured(config);
  if (refusal) throw refusal;
}

/**
 * The only user of the provider settings (config.model). With OPENAI_API_KEY the persona's model (or DEFAULT_MODEL)
 * is called through @ai-sdk/openai at OPENAI_BASE_URL (any OpenAI-compatible server); without it
 * the built-in offline model answers only when OFFLINE_MODEL=1 (`npm run dev`, tests), so a
 * production Worker missing its key never passes an echo off as replies.
 */
export function resolveModel(config: ModelConfig, persona: { name: string; model: string | null }): ResolvedModel {
  if (!config.apiKey) {
    const refusal = modelNotConfigured(config);
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
    apiKey: config.apiKey,
    ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
  });
  const modelId = persona.model ?? config.defaultModel ?? FALLBACK_DEFAULT_MODEL;
  const model = config.apiStyle === 'chat' ? provider.chat(modelId) : provider.responses(modelId);
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
