/**
 * The README's typed-client example is test/typed-client-example/, which `npm run typecheck` compiles
 * (`tsc -p test/typed-client-example`) as a client project would. This checks the README shows exactly
 * that code and configuration, so what readers copy is what compiles.
 */

import { describe, expect, it } from 'vitest';
import readme from '../README.md?raw';
import client from './typed-client-example/client.ts?raw';
import tsconfig from './typed-client-example/tsconfig.json?raw';

const section = readme.slice(readme.indexOf('### Typed client (TypeScript)'));
const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] }));

describe('README typed-client example', () => {
  it('shows client.ts exactly as compiled', () => {
    expect(blocks.find((b) => b.lang === 'ts')?.body).toBe(client);
  });

  it("shows the client's tsconfig.json, with the checkout beside it instead of this repository", () => {
    const shown = blocks.find((b) => b.lang === 'json')?.body ?? '';
    expect(shown.replaceAll('../conversations-api/', '../../')).toBe(tsconfig);
  });

  it('installs what the example imports', () => {
    const install = blocks.find((b) => b.lang === 'bash')?.body ?? '';
    for (const name of ['@trpc/client', 'eventsource', 'typescript', '@types/node']) expect(install).toContain(name);
    expect(client).toMatch(/from 'eventsource'/);
    expect(client).toMatch(/from '@trpc\/client'/);
  });
});
