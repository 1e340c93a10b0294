import type { ZodError } from 'zod';

/** zod 4 starts many messages with this; the field name already says the input was wrong. */
const GENERIC_PREFIX = /^Invalid input:\s*/;

/**
 * One sentence per issue, each naming its field once:
 * `personaId: expected string, received undefined; name must not be empty; temperature: Too big: expected number to be <=2`.
 * Our own messages ("must …", "is …") read on from the field name; zod's get a colon.
 */
export function describeIssues(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.') || 'input';
      const message = issue.message.replace(GENERIC_PREFIX, '');
      return /^(must|is|has|cannot|should) /.test(message) ? `${path} ${message}` : `${path}: ${message}`;
    })
    .join('; ');
}
