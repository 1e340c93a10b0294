/**
 * Secret API keys: `sk_` + 32 base64url characters (192 random bits). Only a SHA-256 hash is stored.
 * Keys issued before publishable keys existed start with `pk_` (LEGACY_SECRET_KEY_PREFIX); they are
 * verified by hash like any other secret key and keep working.
 */
export const KEY_PREFIX = 'sk_';
export const LEGACY_SECRET_KEY_PREFIX = 'pk_';
/**
 * Publishable (browser-safe) widget keys. Not `pk_`: secret keys already issued start with `pk_`, so a
 * `pk_…` publishable key could not be told from a leaked secret one at a glance or by a secret scanner.
 */
export const PUBLISHABLE_KEY_PREFIX = 'pub_';
const DISPLAY_LENGTH = 10;

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
}

export function generateApiKey(kindPrefix: string = KEY_PREFIX): { key: string; prefix: string } {
  const key = kindPrefix + base64url(crypto.getRandomValues(new Uint8Array(24)));
  return { key, prefix: key.slice(0, DISPLAY_LENGTH + kindPrefix.length - KEY_PREFIX.length) };
}

export function base64urlEncode(bytes: Uint8Array): string {
  return base64url(bytes);
}

export async function sha256Hex(input: string | Uint8Array): Promise<string> {
  const data = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  const digest = await crypto.subtle.digest('SHA-256', data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
