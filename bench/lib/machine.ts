import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { root } from './wrangler.ts';

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'));
    return String(pkg.version);
  } catch {
    return 'unknown';
  }
}

export function machine(postgres: string | undefined) {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: `${process.platform} ${release()}`,
    postgres: postgres ?? 'not reachable (PostgreSQL runs skipped)',
    versions: Object.fromEntries(
      ['wrangler', 'hono', '@electric-sql/pglite', 'unpdf', 'pdfjs-dist', 'autocannon'].map((n) => [
        n,
        packageVersion(n),
      ]),
    ),
  };
}
