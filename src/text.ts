/**
 * Text as the database takes it. Neon refuses a statement whose JSON holds an unpaired UTF-16
 * surrogate (half an emoji, from a client or a model cut mid-character) with 400: the write would fail
 * and, for a reply's final save, leave it STREAMING. Client input is validated instead (refused with
 * 400, src/trpc/inputs.ts); text the API makes itself (model output, extracted attachment text) passes
 * here on its way to the database: an unpaired surrogate becomes U+FFFD.
 */
export function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}
