import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { estimateTokens } from '../config';
import { readUserTurn } from './prompt-tags';

export const OFFLINE_MODEL_ID = 'offline-echo-1';

function lastUserText(call: LanguageModelV4CallOptions): string {
  for (let i = call.prompt.length - 1; i >= 0; i--) {
    const message = call.prompt[i];
    if (message?.role !== 'user') continue;
    return message.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
  }
  return '';
}

function systemText(call: LanguageModelV4CallOptions): string {
  return call.prompt.flatMap((message) => (message.role === 'system' ? [message.content] : [])).join('\n');
}

/** The offline model's reply: who it is, what it was told, and the beginning of each document. */
function answer(personaName: string, call: LanguageModelV4CallOptions): string {
  // Documents are recognised only by the tags carrying the boundary the system prompt announces.
  const { question, documents } = readUserTurn(systemText(call), lastUserText(call));
  const lines = [
    `Hello, I'm ${personaName}. (This is the built-in offline model, not an AI: set OPENAI_API_KEY for real replies.)`,
    `You said: "${question.length > 300 ? `${cutAtCodePoint(question, 300)}…` : question}"`,
  ];
  for (const { filename, text: body, hasText } of documents) {
    if (!hasText) {
      lines.push(`I received "${filename}", but it has no extractable text.`);
    } else {
      const words = body.split(/\s+/).filter(Boolean);
      const excerpt = words.slice(0, 40).join(' ');
      lines.push(
        `I read "${filename}" (${words.length} words). It begins: "${excerpt}${words.length > 40 ? '…' : ''}"`,
      );
    }
  }
  return lines.join('\n');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

function usageFor(call: LanguageModelV4CallOptions, output: string) {
  const input = estimateTokens(JSON.stringify(call.prompt));
  const out = estimateTokens(output);
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: out, text: out, reasoning: undefined },
  };
}

/** The reply streamed word by word, `delayMs` apart, as a provider streams tokens. */
function streamAnswer(call: LanguageModelV4CallOptions, text: string, delayMs: number) {
  const pieces = text.match(/\S+\s*|\s+/g) ?? [];
  return new ReadableStream<LanguageModelV4StreamPart>({
    async start(controller) {
      controller.enqueue({ type: 'stream-start', warnings: [] });
      controller.enqueue({ type: 'text-start', id: 't0' });
      try {
        for (const piece of pieces) {
          if (delayMs > 0) await sleep(delayMs, call.abortSignal);
          controller.enqueue({ type: 'text-delta', id: 't0', delta: piece });
        }
      } catch (error) {
        controller.error(error);
        return;
      }
      controller.enqueue({ type: 'text-end', id: 't0' });
      controller.enqueue({
        type: 'finish',
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: usageFor(call, text),
      });
      controller.close();
    },
  });
}

/**
 * A built-in stand-in model used when no provider key is configured, so the whole API works on a
 * fresh machine with no network. It is not an LLM: it answers deterministically from the persona
 * name, the last user message and any attached documents, and streams its answer word by word like
 * a real model. Replies are labelled `offline/offline-echo-1` in metadata.model.
 */
export function createOfflineModel(options: { personaName: string; delayMs?: number }): LanguageModelV4 {
  const delayMs = options.delayMs ?? 15;
  return {
    specificationVersion: 'v4',
    provider: 'offline',
    modelId: OFFLINE_MODEL_ID,
    supportedUrls: {},
    async doGenerate(call) {
      const text = answer(options.personaName, call);
      return {
        content: [{ type: 'text', text }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: usageFor(call, text),
        warnings: [],
      };
    },
    async doStream(call) {
      return { stream: streamAnswer(call, answer(options.personaName, call), delayMs) };
    },
  };
}

/**
 * The first `max` UTF-16 units of `text`, one fewer when the cut would split a surrogate pair: half an
 * emoji is an unpaired surrogate, which Neon refuses in a statement (the reply's save would fail).
 */
export function cutAtCodePoint(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
