/** Which webhook endpoint URLs are accepted: https to public hosts, no credentials. */
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/errors';
import { checkWebhookUrl, WEBHOOK_URL_MAX_LENGTH } from '../src/webhooks/url';

const production = { allowLoopbackHttp: false };
const dev = { allowLoopbackHttp: true };

function refusal(raw: string, options = production): string {
  try {
    checkWebhookUrl(raw, options);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('BAD_REQUEST');
    return (error as Error).message;
  }
  throw new Error(`accepted ${raw}`);
}

describe('webhook endpoint URLs', () => {
  it('accept https to a public host, normalised', () => {
    expect(checkWebhookUrl('https://hooks.example.com/in?x=1', production)).toBe('https://hooks.example.com/in?x=1');
    expect(checkWebhookUrl('HTTPS://Example.COM', production)).toBe('https://example.com/');
  });

  it('refuse http, other schemes and garbage', () => {
    expect(refusal('http://hooks.example.com/in')).toMatch(/https/);
    expect(refusal('ftp://example.com/')).toMatch(/https/);
    expect(refusal('javascript:alert(1)')).toMatch(/https/);
    expect(refusal('example.com/in')).toMatch(/absolute URL/);
    expect(refusal(`https://example.com/${'a'.repeat(WEBHOOK_URL_MAX_LENGTH)}`)).toMatch(/too long/);
  });

  it('refuse credentials and fragments, without echoing the secret', () => {
    const message = refusal('https://user:s3cret@example.com/in');
    expect(message).toMatch(/credentials/);
    expect(message).not.toContain('s3cret');
    expect(refusal('https://token@example.com/in')).toMatch(/credentials/);
    expect(refusal('https://example.com/in#x')).toMatch(/fragment/);
  });

  it('refuse loopback, private and link-local hosts in production', () => {
    for (const host of [
      '127.0.0.1',
      'localhost',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '[::1]',
      '[fd00::1]',
      '[::ffff:127.0.0.1]',
      'db.internal',
      'printer.local',
    ]) {
      expect(refusal(`https://${host}/in`), host).toMatch(/public host/);
    }
    expect(checkWebhookUrl('https://172.32.0.1/in', production)).toBe('https://172.32.0.1/in');
  });

  it('admit http to the loopback only when the dev setting says so', () => {
    expect(refusal('http://127.0.0.1:9999/in')).toMatch(/https/);
    expect(checkWebhookUrl('http://127.0.0.1:9999/in', dev)).toBe('http://127.0.0.1:9999/in');
    expect(checkWebhookUrl('http://localhost:9999/in', dev)).toBe('http://localhost:9999/in');
    expect(refusal('http://example.com/in', dev)).toMatch(/https/);
    expect(refusal('http://10.0.0.1/in', dev)).toMatch(/https/);
  });
});
