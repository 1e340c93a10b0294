import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** test/node/webhook-receiver.ts: records deliveries per token (`/hook/<token>`, `/received/<token>`). */
    webhookReceiverUrl: string;
  }
}

export type ReceivedDelivery = {
  id: string | null;
  timestamp: string | null;
  signature: string | null;
  contentType: string | null;
  body: string;
  answered: number;
};

/** The local receiver's base URL (started by the global setup). */
export const receiverUrl = (): string => inject('webhookReceiverUrl');

/** What the receiver got at `/hook/<token>`, in arrival order. */
export async function received(token: string): Promise<ReceivedDelivery[]> {
  return (await (await fetch(`${receiverUrl()}/received/${token}`)).json()) as ReceivedDelivery[];
}
