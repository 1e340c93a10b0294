import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModel } from 'ai';
import type { Env } from '../env';
import { createOfflineModel, OFFLINE_MODEL_ID } from './offline-model';

export type ResolvedModel = {
  model: LanguageModel;
  /** What metadata.model records: `provider/model-id`. */
  label: string;
  offline: boolean;
};

export const FALLBACK_DEFAULT_MODEL = 'gpt-4o-mini';

/**
 * The only reader of provider settings. With OPENAI_API_KEY the persona's model (or DEFAULT_MODEL)
 * is called through @ai-sdk/openai at OPENAI_BASE_URL (any OpenAI-compatible server); without it
 * the built-in offline model answers.
 */
export function resolveModel(
  env: Pick<Env, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'OPENAI_API_STYLE' | 'DEFAULT_MODEL'>,
  persona: { name: string; model: string | null },
): ResolvedModel {
  if (!env.OPENAI_API_KEY) {
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
