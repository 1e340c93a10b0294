import { expect } from 'vitest';

/** The value, after failing the test (saying `what` was missing) when it is undefined or null. */
export function defined<T>(value: T | null | undefined, what = 'value'): T {
  expect(value, `${what} is missing`).toBeDefined();
  expect(value, `${what} is null`).not.toBeNull();
  return value as T;
}
