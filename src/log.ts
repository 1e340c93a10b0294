/** Secrets that must never reach logs, error messages or responses. */
const SECRET_BINDINGS = ['DATABASE_URL', 'OPENAI_API_KEY', 'ADMIN_TOKEN', 'VISITOR_TOKEN_SECRET'] as const;

/**
 * Replaces secret values (and anything shaped like an API key or a connection string's password)
 * before text is logged. Driver errors can quote the connection string, so everything logged goes
 * through here.
 */
export function redact(text: string, env: Record<string, unknown>): string {
  let out = text;
  for (const name of SECRET_BINDINGS) {
    const value = env[name];
    if (typeof value === 'string' && value.length >= 4) out = out.split(value).join(`[${name}]`);
  }
  return out
    .replace(/\b(pk|sk)_[A-Za-z0-9_-]{16,}/g, '$1_[redacted]')
    .replace(/(postgres(?:ql)?:\/\/[^:/\s]+:)[^@\s]+@/g, '$1[redacted]@');
}
