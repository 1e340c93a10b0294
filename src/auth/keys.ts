/** API keys: `pk_` + 32 base64url characters (192 random bits). Only a SHA-256 hash is stored. */
export const KEY_PREFIX = 'pk_';
const DISPLAY_LENGTH = 10;

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
}

export function generateApiKey(): { key: string; prefix: string } {
  const key = KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(24)));
  return { key, prefix: key.slice(0, DISPLAY_LENGTH) };
}

export async function sha256Hex(input: string | Uint8Array): Promise<string> {
  const data = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  const digest = await crypto.subtle.digest('SHA-256', data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
