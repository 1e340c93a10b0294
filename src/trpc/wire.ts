import type { TRPCCombinedDataTransformer } from '@trpc/server';

/**
 * The contract's wire format. Existing clients send inputs either plain (`{...}`) or wrapped in a
 * superjson-style envelope (`{"json": {...}, "meta": ...}`); both must work on GET and POST.
 * Outputs are plain JSON (dates are already ISO strings in our output objects).
 */
function isEnvelope(value: unknown): value is { json: unknown } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.includes('json') && keys.every((key) => key === 'json' || key === 'meta');
}

export const wireFormat: TRPCCombinedDataTransformer = {
  input: {
    serialize: (value: unknown) => value,
    deserialize: (value: unknown) => (isEnvelope(value) ? value.json : value),
  },
  output: {
    serialize: (value: unknown) => value,
    deserialize: (value: unknown) => value,
  },
};
