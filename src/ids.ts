/**
 * Opaque ids: a type prefix and a ULID-shaped body (48-bit millisecond time + 80 random bits,
 * Crockford base32). URL-safe, sortable by creation time to the millisecond, and unguessable: every
 * id draws its own 80 bits from the platform CSPRNG, even within one millisecond (no monotonic
 * increment, which would make the next id predictable from the last: session `…X8F`, greeting
 * `…X8G`). Ids made in the same millisecond are therefore in no particular order: nothing may rely
 * on id order within a millisecond. Queries order by (created_at, id), and rows created together
 * get distinct created_at values where their order matters (src/db/queries/turns.ts).
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export const idPrefixes = {
  organization: 'org',
  apiKey: 'key',
  persona: 'persona',
  session: 'session',
  message: 'msg',
  attachment: 'att',
  publishableKey: 'pubkey',
  source: 'src',
  chunk: 'chunk',
  webhookEndpoint: 'whep',
  webhookEvent: 'evt',
  webhookDelivery: 'whdl',
} as const;

export type IdKind = keyof typeof idPrefixes;

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

export function ulid(now: number = Date.now()): string {
  return encodeTime(now) + encodeRandom(crypto.getRandomValues(new Uint8Array(10)));
}

export function newId(kind: IdKind): string {
  return `${idPrefixes[kind]}_${ulid()}`;
}
