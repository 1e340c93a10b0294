import { AppError } from '../errors';

/** Clients often send a data: URL rather than bare base64; only the payload counts. */
export function base64Payload(data: string): string {
  const match = /^\s*data:[^,]{0,200};base64,/i.exec(data);
  return match ? data.slice(match[0].length) : data;
}

/** Bytes a base64 string decodes to, without decoding or copying it (whitespace skipped). */
export function base64DecodedLength(data: string): number {
  let chars = 0;
  let padding = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) continue;
    chars++;
    padding = c === 0x3d ? padding + 1 : 0;
  }
  return Math.floor((chars * 3) / 4) - Math.min(padding, 2);
}

type FromBase64 = (data: string, options: { alphabet: 'base64' | 'base64url' }) => Uint8Array;
/** ES2026 Uint8Array.fromBase64: Workers have it; Node 24 (the bench) with --js-base-64. */
const fromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;

/** Only base64 characters, ASCII whitespace and trailing padding: one pass, no copy, no regex. */
function isBase64(data: string): boolean {
  let padding = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) continue;
    if (c === 0x3d) {
      if (++padding > 2) return false;
      continue;
    }
    if (padding > 0) return false;
    const ok =
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2b ||
      c === 0x2f ||
      c === 0x2d ||
      c === 0x5f;
    if (!ok) return false;
  }
  return true;
}

/**
 * The bytes of an uploaded file (`what` names it in the error: `Attachment "a.pdf"`, `Source
 * "b.txt"`), decoded once into their own buffer: no cleaned copy of the base64 text and no binary
 * string in between (each used to cost the file's size again). Attachments and knowledge sources
 * share it, so both accept the same encodings (standard or URL-safe alphabet, a data: URL).
 */
export function decodeBase64(what: string, data: string): Uint8Array {
  const payload = base64Payload(data);
  const invalid = () => new AppError('BAD_REQUEST', `${what}: "data" is not valid base64.`);
  if (!isBase64(payload)) throw invalid();
  const urlSafe = payload.includes('-') || payload.includes('_');
  if (!fromBase64) throw new Error('Uint8Array.fromBase64 is missing (Node needs --js-base-64)');
  try {
    return fromBase64(payload, { alphabet: urlSafe ? 'base64url' : 'base64' });
  } catch {
    // A mixed alphabet, misplaced padding or a dangling character.
    throw invalid();
  }
}
