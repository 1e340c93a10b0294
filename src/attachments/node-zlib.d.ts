/**
 * The one Node API the Worker uses (nodejs_compat provides it in workerd): zlib's inflate with an
 * output cap, which the web DecompressionStream lacks. Declared here so src/ needs no @types/node.
 */
declare module 'node:zlib' {
  export function inflateSync(
    data: Uint8Array,
    options?: { maxOutputLength?: number; finishFlush?: number },
  ): Uint8Array;
}
