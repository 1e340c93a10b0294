import type { ZodError } from 'zod';

/** `name is too long (max 100 characters); temperature: Too big: expected number to be <=2` */
export function describeIssues(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      if (!path) return issue.message;
      return /^[a-z]/.test(issue.message) ? `${path} ${issue.message}` : `${path}: ${issue.message}`;
    })
    .join('; ');
}
