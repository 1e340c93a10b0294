import { createOpenAI } from '@ai-sdk/openai';
import type { EmbeddingModelV4 } from '@ai-sdk/provider';
import { embedMany } from 'ai';
import type { Config } from '../config';
import { EMBEDDING_DIMENSIONS, OFFLINE_EMBEDDING_MODEL_ID, offlineEmbedding } from './offline-embedder';

export { EMBEDDING_DIMENSIONS } from './offline-embedder';

/** Texts per embedding call: well under OpenAI's 2,048 inputs and its ~300k tokens per request. */
export const EMBEDDING_BATCH = 64;

export type Embedder = {
  /** What knowledge_embeddings.model and knowledge_sources.embedding_model record: `provider/model-id`. */
  id: string;
  /** One vector of EMBEDDING_DIMENSIONS numbers per text, in order. */
  embed(texts: string[], abortSignal?: AbortSignal): Promise<number[][]>;
};

/** The offline embedder as an AI SDK model, so dev goes through the same `embedMany` as production. */
function offlineEmbeddingModel(): EmbeddingModelV4 {
  return {
    specificationVersion: 'v4',
    provider: 'offline',
    modelId: OFFLINE_EMBEDDING_MODEL_ID,
    maxEmbeddingsPerCall: EMBEDDING_BATCH,
    supportsParallelCalls: true,
    doEmbed: async ({ values, dimensions }) => ({
      embeddings: values.map((v) => offlineEmbedding(v, dimensions ?? EMBEDDING_DIMENSIONS)),
      warnings: [],
    }),
  };
}

/**
 * The embedder of this deployment, or null when there is none: EMBEDDINGS=off, or no provider (no
 * OPENAI_API_KEY and no OFFLINE_MODEL=1). With a key, EMBEDDING_MODEL on the same OpenAI-compatible
 * provider as the replies (OPENAI_BASE_URL), asked for EMBEDDING_DIMENSIONS numbers; without one,
 * the deterministic offline embedder (src/ai/offline-embedder.ts).
 */
export function resolveEmbedder(config: Pick<Config, 'model' | 'embeddings'>): Embedder | null {
  if (!config.embeddings.enabled) return null;
  let model: EmbeddingModelV4;
  let id: string;
  if (config.model.apiKey) {
    const provider = createOpenAI({
      apiKey: config.model.apiKey,
      ...(config.model.baseUrl ? { baseURL: config.model.baseUrl } : {}),
    });
    model = provider.embedding(config.embeddings.model);
    id = `openai/${config.embeddings.model}`;
  } else if (config.model.offline) {
    model = offlineEmbeddingModel();
    id = `offline/${OFFLINE_EMBEDDING_MODEL_ID}`;
  } else {
    return null;
  }
  return {
    id,
    async embed(texts, abortSignal) {
      const { embeddings } = await embedMany({
        model,
        values: texts,
        dimensions: EMBEDDING_DIMENSIONS,
        maxRetries: config.model.maxRetries,
        maxParallelCalls: 2,
        ...(abortSignal ? { abortSignal } : {}),
      });
      for (const e of embeddings) {
        if (e.length !== EMBEDDING_DIMENSIONS) {
          throw new Error(`the embedding model returned ${e.length} numbers, expected ${EMBEDDING_DIMENSIONS}`);
        }
      }
      return embeddings;
    },
  };
}
