import type { ReplyUsage } from '../ai/reply';
import type { AppError } from '../errors';

/** OpenAI's shapes for what a completion reports: finish reason, usage, errors. */

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

/** The error body OpenAI clients parse: `{error:{message,type,code,param}}`. */
export function openAiErrorBody(error: AppError) {
  const type =
    error.status === 401
      ? 'authentication_error'
      : error.status === 403
        ? 'permission_error'
        : error.status === 429
          ? 'rate_limit_error'
          : error.status >= 500
            ? 'server_error'
            : 'invalid_request_error';
  const code =
    error.appCode === 'NOT_FOUND' && error.message.startsWith('The model')
      ? 'model_not_found'
      : error.status === 401
        ? 'invalid_api_key'
        : error.appCode.toLowerCase();
  return { error: { message: error.message, type, code, param: null } };
}
