import { base64DecodedLength, base64Payload } from '../attachments/base64';
import { parseMimeType } from '../attachments/mime';
import type { PublishableKeyRow } from '../db/queries/publishable-keys';
import { AppError } from '../errors';

/**
 * Attachments from widget visitors: off unless the organization turned them on for a key
 * (`visitorLimits.allowAttachments`). Kept in the key's visitor limits (jsonb, no migration) because a
 * key is one website: the same organization may allow files on its support page and not on its shop.
 * These checks run before parsing the procedure input; the files then take the same extraction path as
 * a secret-key send (src/attachments/), whose server-wide limits still apply on top.
 */
export const WIDGET_ATTACHMENT_DEFAULTS = {
  maxAttachments: 1,
  maxAttachmentBytes: 2 * 1024 * 1024,
  attachmentTypes: ['application/pdf', 'text/plain'],
};
/** Hard bounds on what an operator may set, so a widget request stays well under the 14 MiB API body. */
export const WIDGET_ATTACHMENT_BOUNDS = {
  maxAttachments: 3,
  maxAttachmentBytes: 5 * 1024 * 1024,
  /** maxAttachments × maxAttachmentBytes: decoded bytes one visitor message may carry. */
  maxTotalBytes: 8 * 1024 * 1024,
};
/** Widget requests without attachments are small chat messages. */
export const WIDGET_BASE_BODY_BYTES = 64 * 1024;
/** JSON around one attachment: a 255-character filename escaped (6 bytes a character at worst), type, keys. */
const PER_ATTACHMENT_OVERHEAD = 2 * 1024;

export type VisitorAttachmentPolicy = { maxCount: number; maxBytes: number; types: string[] };

/** What a key lets its visitors attach, or null when it does not allow attachments. */
export function visitorAttachmentPolicy(row: PublishableKeyRow): VisitorAttachmentPolicy | null {
  const limits = row.visitorLimits;
  if (!limits.allowAttachments) return null;
  const d = WIDGET_ATTACHMENT_DEFAULTS;
  return {
    maxCount: limits.maxAttachments ?? d.maxAttachments,
    maxBytes: limits.maxAttachmentBytes ?? d.maxAttachmentBytes,
    types: limits.attachmentTypes ?? d.attachmentTypes,
  };
}

/** The request body a key's widget may send: 64 KiB, plus its largest allowed attachments in base64. */
export function widgetBodyLimit(row: PublishableKeyRow | null): number {
  const policy = row ? visitorAttachmentPolicy(row) : null;
  if (!policy) return WIDGET_BASE_BODY_BYTES;
  const base64 = Math.ceil((policy.maxCount * policy.maxBytes) / 3) * 4;
  return WIDGET_BASE_BODY_BYTES + base64 + policy.maxCount * PER_ATTACHMENT_OVERHEAD;
}

const megabytes = (bytes: number) => `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;

/**
 * Checks a visitor's attachments against the key: allowed at all (403), how many (400), their declared
 * types (415) and sizes read from the base64 length without decoding (413). Entries of the wrong shape
 * are left to the input schema, which runs next and refuses them.
 */
export function checkVisitorAttachments(row: PublishableKeyRow, attachments: unknown): void {
  if (attachments === undefined || (Array.isArray(attachments) && attachments.length === 0)) return;
  const policy = visitorAttachmentPolicy(row);
  if (!policy) throw new AppError('FORBIDDEN', 'This chat does not accept attachments.');
  if (!Array.isArray(attachments)) return;
  if (attachments.length > policy.maxCount) {
    throw new AppError(
      'BAD_REQUEST',
      `Too many attachments: ${attachments.length} (this chat accepts ${policy.maxCount} per message).`,
    );
  }
  for (const entry of attachments) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { filename, mimeType, data } = entry as Record<string, unknown>;
    const name = typeof filename === 'string' ? `"${filename.slice(0, 255)}"` : 'The file';
    if (typeof mimeType === 'string' && !policy.types.includes(parseMimeType(mimeType.slice(0, 100)).type)) {
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `${name} is not a type this chat accepts (${mimeType.slice(0, 100)}); accepted: ${policy.types.join(', ')}.`,
      );
    }
    if (typeof data === 'string') {
      const size = base64DecodedLength(base64Payload(data));
      if (size > policy.maxBytes) {
        throw new AppError(
          'PAYLOAD_TOO_LARGE',
          `${name} is too large (${megabytes(size)}); this chat accepts files up to ${megabytes(policy.maxBytes)}.`,
        );
      }
    }
  }
}
