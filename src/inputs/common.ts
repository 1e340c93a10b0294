import { z } from 'zod';

/**
 * Shared input pieces, for tRPC procedures, Hono routes and services alike. Every string and array
 * has a maximum (hostile-input rule).
 */
export const id = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'is too long (max 100 characters)')
  .regex(/^[\w-]+$/, 'must be an id (letters, digits, "_" and "-")');
export const limit = (max: number, fallback: number) => z.number().int().min(1).max(max).default(fallback);
export const cursor = id.optional();

/**
 * Free text stored in Postgres, which cannot store NUL characters or unpaired UTF-16 surrogates
 * (invalid Unicode): both are refused with a clear message rather than failing in the database.
 */
export const text = (max: number) =>
  z
    .string()
    .max(max, `is too long (max ${max} characters)`)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters')
    .refine((value) => value.isWellFormed(), 'must be valid Unicode (it has an unpaired surrogate)');

/** True when every string in a JSON value (keys included) is storable text. */
function storable(value: unknown, depth = 0): boolean {
  if (depth > 20) return false;
  if (typeof value === 'string') return !value.includes('\u0000') && value.isWellFormed();
  if (Array.isArray(value)) return value.every((v) => storable(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(([k, v]) => storable(k, depth + 1) && storable(v, depth + 1));
  }
  return true;
}

export const metadata = z
  .record(z.string().max(100), z.unknown())
  .refine((value) => JSON.stringify(value).length <= 16_384, 'is too large (max 16 KB as JSON)')
  .refine(
    (value) => storable(value),
    'must contain only valid Unicode text, without NUL characters, nested at most 20 deep',
  );
