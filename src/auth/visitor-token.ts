import { AppError } from '../errors';
import { base64urlEncode } from './keys';

/**
 * Visitor tokens: what a widget visitor holds instead of a secret. `vt1.<claims>.<signature>`, the
 * claims base64url JSON, the signature HMAC-SHA256 over `vt1.<claims>` with VISITOR_TOKEN_SECRET (a
 * Worker secret), so a token cannot be forged or moved to another session, organization or key.
 * Stateless: nothing is stored, and a token stops working when it expires or its key is revoked.
 */
export type VisitorClaims = {
  /** Organization. */
  o: string;
  /** Publishable key id. */
  k: string;
  /** Chat session. */
  s: string;
  /** Verified end-user id, or null for an anonymous visitor. */
  u: string | null;
  /** Expiry, seconds since the epoch. */
  exp: number;
};

const VERSION = 'vt1';
const MAX_TOKEN_LENGTH = 2_000;

const encoder = new TextEncoder();

function requireSecret(secret: string | undefined): string {
  if (!secret || secret.length < 16) {
    throw new AppError('NOT_FOUND', 'The widget is not enabled on this server (VISITOR_TOKEN_SECRET is not set).');
  }
  return secret;
}

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

function base64urlDecode(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export async function hmacHex(secret: string, message: string): Promise<string> {
  const signature = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(message));
  return Array.from(new Uint8Array(signature), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function signVisitorToken(secret: string | undefined, claims: VisitorClaims): Promise<string> {
  const body = `${VERSION}.${base64urlEncode(encoder.encode(JSON.stringify(claims)))}`;
  const signature = await crypto.subtle.sign('HMAC', await hmacKey(requireSecret(secret)), encoder.encode(body));
  return `${body}.${base64urlEncode(new Uint8Array(signature))}`;
}

const invalid = () =>
  new AppError('UNAUTHORIZED', 'Invalid or expired visitor token: start a new widget session (widget.startSession).');

/** Verifies signature and expiry (constant-time via WebCrypto's verify); the caller checks the bindings. */
export async function verifyVisitorToken(
  secret: string | undefined,
  token: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<VisitorClaims> {
  const key = await hmacKey(requireSecret(secret));
  if (token.length > MAX_TOKEN_LENGTH) throw invalid();
  const [version, claimsPart, signaturePart, ...rest] = token.split('.');
  if (version !== VERSION || claimsPart === undefined || signaturePart === undefined || rest.length) throw invalid();
  const signature = base64urlDecode(signaturePart);
  if (!signature) throw invalid();
  const ok = await crypto.subtle.verify('HMAC', key, signature, encoder.encode(`${version}.${claimsPart}`));
  if (!ok) throw invalid();
  const raw = base64urlDecode(claimsPart);
  let claims: VisitorClaims;
  try {
    claims = JSON.parse(new TextDecoder().decode(raw ?? new Uint8Array())) as VisitorClaims;
  } catch {
    throw invalid();
  }
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) throw invalid();
  return claims;
}

/**
 * The per-organization secret an organization's backend uses to vouch for a user id
 * (hex HMAC-SHA256 of the user id). Derived from VISITOR_TOKEN_SECRET, so nothing more is stored;
 * rotating VISITOR_TOKEN_SECRET rotates every organization's identity secret (see README).
 */
export function identitySecret(secret: string | undefined, organizationId: string): Promise<string> {
  return hmacHex(requireSecret(secret), `identity:${organizationId}`);
}

/** Constant-time check of `userHash` = HMAC(identitySecret, userId). */
export async function verifyUserHash(
  secret: string | undefined,
  organizationId: string,
  userId: string,
  userHash: string,
): Promise<boolean> {
  const expected = await hmacHex(await identitySecret(secret, organizationId), userId);
  const given = userHash.toLowerCase();
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}
