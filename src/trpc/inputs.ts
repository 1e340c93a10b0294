import { z } from 'zod';

/** Shared input pieces. Every string and array has a maximum (hostile-input rule). */
export const id = z.string().trim().min(1, 'must not be empty').max(100, 'is too long (max 100 characters)');
export const limit = (max: number, fallback: number) => z.number().int().min(1).max(max).default(fallback);
export const cursor = id.optional();

/** Free text stored in Postgres: NUL characters are rejected with a clear message (Postgres cannot store them). */
export const text = (max: number) =>
  z
    .string()
    .max(max, `is too long (max ${max} characters)`)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters');

export const metadata = z
  .record(z.string().max(100), z.unknown())
  .refine((value) => JSON.stringify(value).length <= 16_384, 'is too large (max 16 KB as JSON)')
  .refine((value) => !JSON.stringify(value).includes('\\u0000'), 'must not contain NUL characters');
