import { AppError } from '../errors';

/** Longest endpoint URL accepted: enough for any real receiver, bounded for storage and logs. */
export const WEBHOOK_URL_MAX_LENGTH = 2_000;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Hosts a delivery must never be aimed at in production: loopback, private and link-local ranges. */
function isPrivateHost(host: string): boolean {
  if (
    LOOPBACK_HOSTS.has(host) ||
    host.endsWith('.localhost') ||
    host.endsWith('.local') ||
    host.endsWith('.internal')
  ) {
    return true;
  }
  const v4 = host.match(/^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (host.startsWith('[')) {
    const v6 = host.slice(1, -1).toLowerCase();
    return v6 === '::' || v6 === '::1' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || v6.startsWith('::ffff:');
  }
  return false;
}

/**
 * A webhook endpoint URL as it may be stored: `https` to a public host, without credentials (a
 * secret in a URL ends up in logs and listings) or fragment. `allowLoopbackHttp` (a dev/test
 * setting) also admits `http://127.0.0.1`/`localhost`, for a receiver on the same machine.
 */
export function checkWebhookUrl(raw: string, options: { allowLoopbackHttp: boolean }): string {
  if (raw.length > WEBHOOK_URL_MAX_LENGTH) {
    throw new AppError('BAD_REQUEST', `url: is too long (max ${WEBHOOK_URL_MAX_LENGTH} characters)`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('BAD_REQUEST', 'url: must be an absolute URL, e.g. https://example.com/webhooks');
  }
  if (url.username || url.password) {
    throw new AppError('BAD_REQUEST', 'url: must not contain credentials; receivers verify the signature instead');
  }
  if (url.hash) throw new AppError('BAD_REQUEST', 'url: must not have a #fragment');
  const loopbackHttp = options.allowLoopbackHttp && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (loopbackHttp) return url.href;
  if (url.protocol !== 'https:') throw new AppError('BAD_REQUEST', 'url: must use https');
  if (isPrivateHost(url.hostname)) {
    throw new AppError('BAD_REQUEST', 'url: must point to a public host (not loopback, private or link-local)');
  }
  return url.href;
}
