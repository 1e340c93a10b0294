/**
 * Loopback addresses: where dev-only settings (LOCAL_SQL_ENDPOINT, PLAYGROUND_DEMO_URL) may point and
 * which Host names the dev-only endpoints answer. Anything else (a public address, a DNS name that
 * merely resolves to 127.0.0.1, as in DNS rebinding) is not loopback.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1') return true;
  const octets = host.split('.');
  return octets.length === 4 && octets[0] === '127' && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255);
}

export function isLoopbackUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && isLoopbackHost(parsed.hostname);
  } catch {
    return false;
  }
}

/** The host name of a Host header value ("127.0.0.1:8787", "[::1]:8787", "localhost"). */
export function hostnameOfHostHeader(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d{1,5})?$/.exec(value.trim());
  return match?.[1];
}
