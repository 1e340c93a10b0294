import { type Env, intSetting } from '../env';

/** Knowledge-source limits, per organization (settings in the README's Knowledge section). */
export type SourceLimits = {
  /** Sources one persona may have (any status). */
  maxPerPersona: number;
  /** Bytes of one source (decoded). */
  maxBytes: number;
  /** Bytes of all of an organization's sources together. */
  maxTotalBytes: number;
  /** PDF pages read; later pages are not indexed (the source says how many were). */
  maxPages: number;
  /** Characters indexed per source; the text beyond is not indexed. Bounds the chunk statement's size. */
  maxChars: number;
};

export const DEFAULT_SOURCE_LIMITS: SourceLimits = {
  maxPerPersona: 50,
  maxBytes: 10 * 1024 * 1024,
  maxTotalBytes: 200 * 1024 * 1024,
  maxPages: 500,
  maxChars: 1_000_000,
};

export function sourceLimits(env: Env): SourceLimits {
  const d = DEFAULT_SOURCE_LIMITS;
  return {
    maxPerPersona: intSetting(env.SOURCES_MAX_PER_PERSONA, d.maxPerPersona),
    maxBytes: intSetting(env.SOURCE_MAX_BYTES, d.maxBytes),
    maxTotalBytes: intSetting(env.SOURCES_MAX_TOTAL_BYTES, d.maxTotalBytes),
    maxPages: intSetting(env.SOURCE_MAX_PAGES, d.maxPages),
    maxChars: intSetting(env.SOURCE_MAX_CHARS, d.maxChars),
  };
}
