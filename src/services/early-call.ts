import type { ResolvedModel } from '../ai/model';
import { type BuiltPrompt, buildPrompt } from '../ai/prompt';
import { generateReply, type ReplyOutcome } from '../ai/reply';
import { newHistoryMessage, promptKey, WARM_MS, windowHistory } from './turn-cache';
import type { TurnDeps, TurnHooks, TurnInput, TurnLimits } from './turn-types';

/**
 * A warm session's model call, started before the turn's first round trip returns, with the prompt
 * the object expects that round trip to confirm (src/services/turn-cache.ts). Its text is held back
 * until `release`.
 */
export type EarlyCall = {
  key: string;
  prompt: BuiltPrompt;
  model: ResolvedModel;
  run: Promise<ReplyOutcome>;
  /** The user's message is committed: hand over what arrived and pass the rest straight on. */
  release: () => void;
  /** The guess was wrong or the turn was refused: abort the call; nothing it produced is heard. */
  cancel: () => void;
};

/** The early call for a USER turn without an Idempotency-Key in a warm session; undefined otherwise. */
export function callEarly(deps: TurnDeps, turn: TurnInput, limits: TurnLimits, hooks: TurnHooks) {
  const { input } = turn;
  const cache = deps.cache;
  if (input.role !== 'USER' || turn.claim || !cache || Date.now() - cache.at > WARM_MS) return undefined;
  const next = newHistoryMessage(turn.messageId, input.role, input.content, input.attachments, limits.attachmentChars);
  if (!next) return undefined;
  const history = windowHistory([...cache.history, next], limits);
  const prompt = buildPrompt(cache.persona, history, limits.budget);
  const model = deps.resolveModel(cache.persona);
  const abort = new AbortController();
  hooks.stopSignal?.addEventListener('abort', () => abort.abort());
  let released = false;
  const held: string[] = [];
  const run = generateReply({
    model,
    prompt,
    settings: { temperature: cache.persona.temperature, maxOutputTokens: cache.persona.maxOutputTokens },
    idleTimeoutMs: deps.config.model.timeoutMs,
    maxRetries: deps.config.model.maxRetries,
    stopSignal: abort.signal,
    onDelta: (delta) => {
      if (released) hooks.onDelta?.(delta);
      else held.push(delta);
    },
  });
  const early: EarlyCall = {
    key: promptKey(cache.persona, history),
    prompt,
    model,
    run,
    release: () => {
      released = true;
      for (const delta of held.splice(0)) hooks.onDelta?.(delta);
    },
    cancel: () => abort.abort(),
  };
  return early;
}
