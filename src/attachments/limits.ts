import { type Env, intSetting } from '../env';

export type AttachmentLimits = {
  maxBytes: number;
  maxCount: number;
  maxTotalBytes: number;
  maxPdfPages: number;
  maxChars: number;
};

export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = {
  maxBytes: 10 * 1024 * 1024,
  maxCount: 5,
  maxTotalBytes: 20 * 1024 * 1024,
  maxPdfPages: 100,
  maxChars: 100_000,
};

export function attachmentLimits(env: Env): AttachmentLimits {
  const d = DEFAULT_ATTACHMENT_LIMITS;
  return {
    maxBytes: intSetting(env.ATTACHMENT_MAX_BYTES, d.maxBytes),
    maxCount: intSetting(env.ATTACHMENTS_MAX_COUNT, d.maxCount),
    maxTotalBytes: intSetting(env.ATTACHMENTS_MAX_TOTAL_BYTES, d.maxTotalBytes),
    maxPdfPages: intSetting(env.PDF_MAX_PAGES, d.maxPdfPages),
    maxChars: intSetting(env.ATTACHMENT_MAX_CHARS, d.maxChars),
  };
}

/** Bytes a base64 string decodes to, without decoding it. */
export function base64DecodedLength(data: string): number {
  const trimmed = data.replace(/\s/g, '');
  const padding = trimmed.endsWith('==') ? 2 : trimmed.endsWith('=') ? 1 : 0;
  return Math.floor((trimmed.length * 3) / 4) - padding;
}
