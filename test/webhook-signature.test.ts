/**
 * Webhook signatures verify with the `standardwebhooks` library (the reference implementation of
 * the Standard Webhooks specification), as a receiver would; anything altered fails to verify.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, secretKey, signWebhook } from '../src/webhooks/signature';

describe('webhook signatures (Standard Webhooks)', () => {
  const body = JSON.stringify({ type: 'reply.completed', data: { id: 'msg_1', text: 'héllo ✓' } });

  it('verify with the standardwebhooks library', async () => {
    const secret = generateWebhookSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = await signWebhook(secret, 'evt_1', now, body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('fail to verify when the body, id, timestamp or secret differ', async () => {
    const secret = generateWebhookSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = await signWebhook(secret, 'evt_1', now, body);
    const hook = new Webhook(secret);
    expect(() => hook.verify(body.replace('héllo', 'hello'), headers)).toThrow();
    expect(() => hook.verify(body, { ...headers, 'webhook-id': 'evt_2' })).toThrow();
    expect(() => hook.verify(body, { ...headers, 'webhook-timestamp': String(now + 1) })).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
    // A delivery older than the library's tolerance (5 minutes) is refused even when well signed.
    const old = await signWebhook(secret, 'evt_1', now - 3600, body);
    expect(() => hook.verify(body, old)).toThrow();
  });

  it('makes a fresh 32-byte whsec_ secret each time and refuses malformed ones', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(secretKey(a)).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(a);
    expect(() => secretKey(a.slice('whsec_'.length))).toThrow(/whsec_/);
    expect(() => secretKey(`whsec_${btoa('short')}`)).toThrow(/24 to 64 bytes/);
  });
});
