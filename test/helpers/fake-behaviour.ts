/**
 * How the local model server (test/node/fake-openai.ts) answers one fake model. Shared by the
 * server (Node) and the tests (workerd), so it imports nothing.
 */
export type FakeBehaviour = {
  /** Milliseconds to wait before each text chunk (default 0). */
  delayMs?: number;
  /** Answer every attempt with this HTTP status. */
  status?: number;
  /** Answer the first `times` attempts with HTTP `status`, then normally. */
  fail?: { times: number; status: number };
  /** Send this many text chunks, then drop the connection. */
  cutAfter?: number;
  /** Send this many text chunks, then nothing more (until the client gives up). */
  stallAfter?: number;
  /** Answer this text instead of the default echo of the prompt. */
  reply?: string;
};

/** Model ids of the form `fake:<token>` name a behaviour registered with the server. */
export const FAKE_MODEL_PREFIX = 'fake:';

/** The server's control path: PUT `${path}/<token>` with a FakeBehaviour as JSON. */
export const FAKE_MODELS_PATH = '/__models';
