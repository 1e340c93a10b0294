import type { ReplyUsage } from '../ai/reply';

/** OpenAI's shapes for what a completion reports: finish reason and usage (errors: src/errors/respond.ts). */

/** OpenAI's finish_reason for the AI SDK's. */
export function finishReason(reason: string): 'stop' | 'length' | 'content_filter' {
  if (reason === 'length') return 'length';
  if (reason === 'content-filter') return 'content_filter';
  return 'stop';
}

export function usageOf(usage: ReplyUsage) {
  const prompt = usage.inputTokens ?? 0;
  const completion = usage.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage.totalTokens ?? prompt + completion,
  };
}
