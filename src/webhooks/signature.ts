/**
 * Signatures per the Standard Webhooks specification (https://www.standardwebhooks.com), so a
 * receiver verifies deliveries with an off-the-shelf library: the secret is `whsec_` + base64 of
 * 24–64 random bytes; the signed content is `<webhook-id>.<webhook-timestamp>.<body>`; the
 * `webhook-signature` header is `v1,` + base64 of its HMAC-SHA256. Web Crypto only (Workers).
 */

const PREFIX = 'whsec_';
const SECRET_BYTES = 32;

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** The key bytes of a `whsec_` secret; throws on anything else (a secret is never echoed). */
export function secretKey(secret: string): Uint8Array {
  if (!secret.startsWith(PREFIX)) throw new Error('webhook secret must start with whsec_');
  const key = fromBase64(secret.slice(PREFIX.length));
  if (key.length < 24 || key.length > 64) throw new Error('webhook secret must hold 24 to 64 bytes');
  return key;
}

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/**
 * The three headers of one delivery attempt. `id` is the event's id, the same on every retry (the
 * receiver's deduplication key); `timestamp` is the attempt's time in seconds.
 */
export async function signWebhook(secret: string, id: string, timestamp: number, body: string): Promise<SignedHeaders> {
  const key = await crypto.subtle.importKey(
    'raw',
    secretKey(secret) as Uint8Array<ArrayBuffer>,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const seconds = Math.floor(timestamp);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${seconds}.${body}`));
  return {
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': `v1,${toBase64(new Uint8Array(mac))}`,
  };
}
