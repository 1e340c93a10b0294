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

/** Fields of a driver error that name what failed without quoting any value. */
const SAFE_DB_FIELDS = ['code', 'severity', 'constraint', 'table', 'column', 'schema', 'routine'] as const;

/**
 * An error as it may be logged: names, SQLSTATE and constraint, the driver's HTTP status and the
 * stack frames, never a message that can carry values. Database errors quote their statement's
 * parameters (drizzle: "Failed query: … params: <reply text, titles, user ids>") and Postgres quotes
 * offending values ('invalid input syntax …: "<value>"'), so their messages are dropped; other
 * messages lose anything quoted. The README's logging promise rests on this function.
 */
export function describeError(error: unknown, env: Record<string, unknown> = {}): string {
  const parts: string[] = [];
  let current: unknown = error;
  let stack = '';
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (!(current instanceof Error)) {
      parts.push(typeof current);
      break;
    }
    const fields = current as unknown as Record<string, unknown>;
    const isDbError = 'params' in current || current.name === 'NeonDbError' || typeof fields.severity === 'string';
    let line = current.name;
    if (isDbError) {
      const status = /^Server error \(HTTP status (\d{3})\)/.exec(current.message)?.[1];
      if (status) line += ` http=${status}`;
      for (const field of SAFE_DB_FIELDS) {
        const value = fields[field];
        if (typeof value === 'string' && value !== '') line += ` ${field}=${value.slice(0, 64)}`;
      }
    } else {
      line += `: ${scrubMessage(current.message)}`;
    }
    parts.push(line);
    if (!stack && current.stack) stack = framesOf(current.stack);
    current = current.cause;
  }
  return redact(`${parts.join(' <- ')}${stack ? `\n${stack}` : ''}`, env);
}

/** A message without quoted text (where messages put values) and bounded in length. */
function scrubMessage(message: string): string {
  const scrubbed = message
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '"…"')
    .replace(/\([^()]*\)=\([^()]*\)/g, '(…)=(…)');
  return scrubbed.length > 200 ? `${scrubbed.slice(0, 200)}…` : scrubbed;
}

/** The "at …" lines of a stack: code locations only (the first line repeats the message). */
function framesOf(stack: string): string {
  return stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, 12)
    .join('\n');
}

/** Where a log line comes from: the request id (or a cron run's, a queue batch's), and env to redact with. */
export type LogScope = { requestId: string; env?: Record<string, unknown> };

type Level = 'info' | 'warn' | 'error';

/**
 * The one way code writes a log line: one JSON object per line with the level, the request id and
 * an event name, then fields that never carry secrets or message text (ids, counts, codes). An
 * error is logged through describeError, never as its raw message.
 */
export function log(
  level: Level,
  scope: LogScope,
  event: string,
  fields: Record<string, unknown> = {},
  error?: unknown,
): void {
  const line: Record<string, unknown> = { level, requestId: scope.requestId, event, ...fields };
  if (error !== undefined) line.error = describeError(error, scope.env);
  const text = redact(JSON.stringify(line), scope.env ?? {});
  if (level === 'error') console.error(text);
  else if (level === 'warn') console.warn(text);
  else console.log(text);
}

/** An id for work that no request started (cron runs, queue batches), so their lines can be grouped too. */
export function backgroundRequestId(kind: string): string {
  return `${kind}-${crypto.randomUUID()}`;
}
