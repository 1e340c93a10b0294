import type { DeliveryToSend } from '../db/queries/webhook-deliveries';
import { ATTEMPT_TIMEOUT_MS } from './schedule';
import { signWebhook } from './signature';

export type AttemptResult = { ok: true; statusCode: number } | { ok: false; statusCode: number | null; error: string };

/** The body receivers get: Standard Webhooks' recommended `{ type, timestamp, data }`. */
export function deliveryBody(delivery: Pick<DeliveryToSend, 'type' | 'payload' | 'eventCreatedAt'>): string {
  return JSON.stringify({
    type: delivery.type,
    timestamp: delivery.eventCreatedAt.toISOString(),
    data: delivery.payload,
  });
}

/**
 * One POST to the endpoint, signed for this attempt. Redirects are not followed (a receiver that
 * moved updates its URL; following would let a public URL point deliveries elsewhere). The response
 * body is never read or kept: only the status says how it went.
 */
export async function attemptDelivery(delivery: DeliveryToSend, fetcher: typeof fetch = fetch): Promise<AttemptResult> {
  const body = deliveryBody(delivery);
  const headers = await signWebhook(delivery.secret, delivery.eventId, Date.now() / 1000, body);
  try {
    const response = await fetcher(delivery.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'persona-conversations-webhooks/1', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) return { ok: true, statusCode: response.status };
    return { ok: false, statusCode: response.status, error: `HTTP ${response.status}` };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return {
      ok: false,
      statusCode: null,
      error: timedOut ? `no response within ${ATTEMPT_TIMEOUT_MS / 1000} s` : 'connection failed',
    };
  }
}
