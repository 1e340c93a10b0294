/**
 * `npm run check:layers`: imports in src/ point one way and never in a circle. Run by `npm run check`
 * and CI. (dependency-cruiser and madge parse TypeScript with the `typescript` package's API, which
 * TypeScript 7 no longer ships; import lines are simple enough to read directly.)
 *
 * Layers, from the top; a module may import its own layer and the ones below it:
 *   entry       src/app.ts, src/index.ts
 *   transport   routes/, trpc/, scheduled/, openapi/ (built from the router), request-context.ts and
 *               hono-env.ts (Hono's side of the context)
 *   engine      durable/, services/
 *   domain      ai/, attachments/, sources/, auth/, views/, webhooks/, ui/, widget/
 *   data        db/
 *   base        every other src/*.ts (config, context, log, env, ids, text, …), errors/ and inputs/
 * Two more rules: a route never imports a tRPC router (shared code lives below both), and the base's
 * context.ts and env.ts may name other layers' types (`import type`: the request context and the
 * bindings describe them) but never import their code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const LAYERS = ['base', 'data', 'domain', 'engine', 'transport', 'entry'] as const;
type Layer = (typeof LAYERS)[number];
type Edge = { to: string; typeOnly: boolean; line: number };

export function layerOf(file: string): Layer {
  if (/^(app|index)\.ts$/.test(file)) return 'entry';
  if (/^(routes|trpc|scheduled|openapi)\/|^(request-context|hono-env)\.ts$/.test(file)) return 'transport';
  if (/^(durable|services)\//.test(file)) return 'engine';
  if (/^(ai|attachments|sources|auth|views|webhooks|ui|widget)\//.test(file)) return 'domain';
  if (/^db\//.test(file)) return 'data';
  if (!file.includes('/') || /^(errors|inputs)\//.test(file)) return 'base';
  throw new Error(`${file}: no layer; add its folder to dev/check-layers.ts`);
}

/** Import and re-export specifiers with their line numbers; `import type`/`export type` are type-only. */
export function importsOf(text: string): { specifier: string; typeOnly: boolean; line: number }[] {
  const found: { specifier: string; typeOnly: boolean; line: number }[] = [];
  const pattern =
    /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const match of text.matchAll(pattern)) {
    const specifier = match[3] ?? match[4];
    if (!specifier) continue;
    const line = text.slice(0, match.index).split('\n').length;
    found.push({ specifier, typeOnly: Boolean(match[2]), line });
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveImport(from: string, specifier: string, known: Set<string>): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = relative(SRC, resolve(dirname(join(SRC, from)), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}.js`, `${base}/index.ts`]) {
    if (known.has(candidate)) return candidate;
  }
  return null;
}

function graph(): Map<string, Edge[]> {
  const files = sourceFiles(SRC).map((path) => relative(SRC, path));
  const known = new Set(files);
  const edges = new Map<string, Edge[]>();
  for (const file of files) {
    const list: Edge[] = [];
    for (const { specifier, typeOnly, line } of importsOf(readFileSync(join(SRC, file), 'utf8'))) {
      const to = resolveImport(file, specifier, known);
      if (to) list.push({ to, typeOnly, line });
    }
    edges.set(file, list);
  }
  return edges;
}

function layerProblems(edges: Map<string, Edge[]>): string[] {
  const problems: string[] = [];
  for (const [from, list] of edges) {
    for (const edge of list) {
      const { to, line } = edge;
      const where = `src/${from}:${line} imports src/${to}`;
      const up = LAYERS.indexOf(layerOf(to)) > LAYERS.indexOf(layerOf(from));
      if (up && !describes(from, edge)) problems.push(`${where}: ${layerOf(from)} may not import ${layerOf(to)}`);
      if (from.startsWith('routes/') && to.startsWith('trpc/routers/')) {
        problems.push(`${where}: a route may not import a tRPC router`);
      }
    }
  }
  return problems;
}

/** Base files that describe other layers by naming their types (see the header). */
const describes = (from: string, edge: Edge) => /^(context|env)\.ts$/.test(from) && edge.typeOnly;

/**
 * Every import cycle. Type-only imports count (they still tie two modules' designs together), except
 * the describing ones: env.ts names the Durable Object class that itself reads Env.
 */
function cycles(edges: Map<string, Edge[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const edge of edges.get(file) ?? []) {
      if (describes(file, edge)) continue;
      const to = edge.to;
      if (state.get(to) === 'open')
        found.push([...stack.slice(stack.indexOf(to)), to].map((f) => `src/${f}`).join(' → '));
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return found.map((cycle) => `import cycle: ${cycle}`);
}

if (import.meta.main) {
  const edges = graph();
  const problems = [...layerProblems(edges), ...cycles(edges)];
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    console.error(`\n${problems.length} layer problem(s); the layers are described in dev/check-layers.ts.`);
    process.exit(1);
  }
  const count = [...edges.values()].reduce((n, list) => n + list.length, 0);
  console.log(`layers: ${edges.size} modules, ${count} imports, no upward import, no cycle`);
}
