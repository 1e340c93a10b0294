import { z } from 'zod';

/**
 * One attachment as the contract sends it: base64 bytes with a declared type. The static caps here
 * only bound parsing; the configurable limits (limits.ts) are checked before any decoding work.
 */
export const attachmentInput = z.object({
  filename: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(255, 'is too long (max 255 characters)')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters')
    // A lone surrogate cannot be stored (Postgres rejects it inside JSON).
    .refine((v) => v.isWellFormed(), 'must be valid Unicode'),
  /** A supported type, optionally with parameters (`text/csv; charset=utf-8`). */
  mimeType: z.string().trim().toLowerCase().min(1).max(100),
  data: z.string().max(70_000_000, 'is too large'),
  /** For a password-protected PDF. Never stored. */
  password: z.string().max(200).optional(),
});

export type AttachmentInput = z.infer<typeof attachmentInput>;
