import { z } from 'zod';
import { AppError } from '../errors';
import { describeIssues } from '../validation';

/**
 * The OpenAI Chat Completions request, as far as a persona can honour it. The model is a persona id;
 * the persona's own model and settings answer (sampling parameters of the request are ignored). Fields
 * this API does not know are ignored, as OpenAI-compatible servers do; tools and n > 1 are refused.
 */
const MAX_CONTENT_CHARS = 100_000;
const textPart = z.object({ type: z.literal('text'), text: z.string().max(MAX_CONTENT_CHARS) }).loose();
const content = z.union([
  z.string().max(MAX_CONTENT_CHARS),
  z
    .array(z.union([textPart, z.object({ type: z.string().max(50) }).loose()]))
    .max(100)
    .transform((parts, ctx) => {
      const other = parts.find((p) => p.type !== 'text');
      if (other) {
        ctx.addIssue({ code: 'custom', message: `content parts of type "${other.type}" are not supported; send text` });
        return z.NEVER;
      }
      return parts.map((p) => (p as z.infer<typeof textPart>).text).join('');
    }),
]);
export const completionRequest = z
  .object({
    model: z.string().min(1).max(100),
    messages: z
      .array(
        z
          .object({
            role: z.enum(['system', 'developer', 'user', 'assistant']),
            content: content.nullish(),
          })
          .loose(),
      )
      .min(1)
      .max(1_000),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().nullish() }).loose().nullish(),
    n: z.literal(1).nullish(),
    tools: z.array(z.unknown()).max(0, 'tools are not supported').nullish(),
  })
  .loose();
export type CompletionRequest = z.infer<typeof completionRequest>;

export function parseCompletionRequest(body: unknown): CompletionRequest {
  const parsed = completionRequest.safeParse(body);
  if (!parsed.success) throw new AppError('BAD_REQUEST', describeIssues(parsed.error));
  const last = parsed.data.messages.at(-1);
  if (last?.role !== 'user') throw new AppError('BAD_REQUEST', 'The last message must be a user message.');
  return parsed.data;
}
