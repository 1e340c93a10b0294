/**
 * Opaque ids: a type prefix and a ULID body (48-bit millisecond time + 80 random bits, Crockford
 * base32). URL-safe, unguessable (80 bits from the platform CSPRNG) and sortable by creation time.
 * Within one isolate ids made in the same millisecond still increase, so a user message and the
 * messages that follow it sort in the order they were made.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export const idPrefixes = {
  organization: 'org',
  apiKey: 'key',
  persona: 'persona',
  session: 'session',
  message: 'msg',
  attachment: 'att',
  source: 'src',
  chunk: 'chunk',
} as const;

export type IdKind = keyof typeof idPrefixes;

let lastTime = -1;
let lastRandom: Uint8Array = new Uint8Array(10);

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits → 16 base32 characters, most significant first.
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

function incremented(bytes: Uint8Array): Uint8Array {
  const next = bytes.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] === 255) {
      next[i] = 0;
    } else {
      next[i] = (next[i] ?? 0) + 1;
      break;
    }
  }
  return next;
}

export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = incremented(lastRandom);
  } else {
    lastTime = now;
    lastRandom = crypto.getRandomValues(new Uint8Array(10));
  }
  return encodeTime(lastTime) + encodeRandom(lastRandom);
}

export function newId(kind: IdKind): string {
  return `${idPrefixes[kind]}_${ulid()}`;
}
