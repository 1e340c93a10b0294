/**
 * src/ is written for a bundler (extensionless relative imports, folders with an index.ts): this
 * hook lets Node load it as the bench's child processes do, trying `<specifier>.ts`, then
 * `<specifier>/index.ts`. Imported for its effect, before src/ is imported.
 */
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!specifier.startsWith('.') || /\.[cm]?[jt]s$/.test(specifier)) throw error;
      try {
        return nextResolve(`${specifier}.ts`, context);
      } catch {
        return nextResolve(`${specifier}/index.ts`, context);
      }
    }
  },
});
