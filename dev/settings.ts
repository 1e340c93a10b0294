/**
 * The settings `npm run dev` hands to the Worker (dev/start.ts), following the Workers convention:
 * values come from a gitignored `.dev.vars` file (dotenv syntax, beside wrangler.toml), then from the
 * environment, then from `npm run dev -- --var NAME:VALUE`, each overriding the one before.
 * Every setting of the README's configuration table is known here with the shape of a valid value;
 * an unknown name in `.dev.vars` or `--var`, or a malformed value anywhere, stops the start with a
 * message naming it. Pure functions (no file or process access), so the workerd tests can check them.
 */

import type { z } from 'zod';
import { type SettingName, settingsSchema } from '../src/settings.ts';

/** Names of the configuration table that `npm run dev` provides itself, and why they cannot be set. */
export const MANAGED_SETTINGS = {
  ADMIN_TOKEN: 'npm run dev generates the local admin token (see .dev/state.json)',
  LOCAL_SQL_ENDPOINT: 'npm run dev starts the local SQL endpoint and points the Worker at it',
  API_RATE_LIMITER: 'it is a binding declared in wrangler.toml, not a variable',
  CHAT_SESSIONS: 'it is a Durable Object binding declared in wrangler.toml, not a variable',
  LOCAL_DEV_SECRET: 'npm run dev makes a new one at every start for its local endpoints',
  OFFLINE_MODEL: 'npm run dev always enables the offline model for when no OPENAI_API_KEY is set',
  SOURCE_BLOBS: 'it is a binding declared in wrangler.toml (R2; local in wrangler dev), not a variable',
  SOURCE_QUEUE: 'it is a binding declared in wrangler.toml (Queues; local in wrangler dev), not a variable',
  WEBHOOK_QUEUE: 'it is a binding declared in wrangler.toml (Queues; local in wrangler dev), not a variable',
} as const;

/**
 * How a value is checked: the Worker's own schema (src/settings.ts: type, range, default), or, for
 * what only `npm run dev` reads, a rule here.
 */
type Rule = { kind: 'worker' } | { kind: 'enum'; values: readonly string[] } | { kind: 'postgres' };

/** The Worker's settings a developer may set: all of src/settings.ts but those npm run dev manages. */
type WorkerSettingName = Exclude<SettingName, keyof typeof MANAGED_SETTINGS>;
export type DevSettingName = 'DATABASE_URL' | 'ALLOW_REMOTE_DATABASE' | WorkerSettingName;

const workerSettings = Object.keys(settingsSchema.shape).filter(
  (name): name is WorkerSettingName => !Object.hasOwn(MANAGED_SETTINGS, name),
);

/** Settings a developer may set, as the Worker reads them. */
export const DEV_SETTINGS: Record<DevSettingName, Rule> = {
  DATABASE_URL: { kind: 'postgres' },
  // Read by npm run dev itself (not passed to the Worker): "1" allows a DATABASE_URL on another machine.
  ALLOW_REMOTE_DATABASE: { kind: 'enum', values: ['1'] },
  ...(Object.fromEntries(workerSettings.map((name) => [name, { kind: 'worker' }])) as Record<WorkerSettingName, Rule>),
};

export type SettingSource = '.dev.vars' | 'environment' | '--var';

export class SettingsError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

/** Parses `.dev.vars` (dotenv: NAME=value, # comments, optional single, double or back quotes). */
export function parseDevVars(text: string): { entries: [string, string, number][]; problems: string[] } {
  const entries: [string, string, number][] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) {
      problems.push(`.dev.vars line ${index + 1}: expected NAME=value, got "${line.slice(0, 80)}"`);
      return;
    }
    let value = match[2] ?? '';
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === '`') && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    entries.push([match[1] ?? '', value, index + 1]);
  });
  return { entries, problems };
}

/** Why `value` is not valid for `name`, or null when it is. */
export function checkValue(name: DevSettingName, value: string): string | null {
  const rule = DEV_SETTINGS[name];
  if (/[\r\n]/.test(value)) return 'must be on one line';
  switch (rule.kind) {
    case 'worker':
      return workerProblem(name as WorkerSettingName, value);
    case 'enum':
      return rule.values.includes(value) ? null : `expected one of ${rule.values.join(', ')}, got "${value}"`;
    case 'postgres':
      return /^postgres(ql)?:\/\//.test(value) && URL.canParse(value)
        ? null
        : 'expected a postgresql:// connection string';
  }
}

/** The Worker's own verdict (what loadConfig would answer 503 with), with the value quoted. */
function workerProblem(name: WorkerSettingName, value: string): string | null {
  const result = (settingsSchema.shape[name] as z.ZodType).safeParse(value);
  if (result.success) return null;
  const issue = result.error.issues[0];
  if (issue?.code === 'too_small' || issue?.code === 'too_big') return `${issue.message}, got ${value.trim()}`;
  return `${issue?.message ?? 'is not valid'}, got "${value}"`;
}

function isDevSetting(name: string): name is DevSettingName {
  return Object.hasOwn(DEV_SETTINGS, name);
}

function unknownName(name: string): string {
  if (Object.hasOwn(MANAGED_SETTINGS, name))
    return `${name} cannot be set: ${MANAGED_SETTINGS[name as keyof typeof MANAGED_SETTINGS]}`;
  const squash = (n: string) => n.toUpperCase().replaceAll('_', '');
  const close = Object.keys(DEV_SETTINGS).find(
    (known) => squash(known) === squash(name) || (name.length >= 6 && squash(known).startsWith(squash(name))),
  );
  return `${name} is not a setting of this API${close ? ` (did you mean ${close}?)` : ''}; known settings: ${Object.keys(DEV_SETTINGS).join(', ')}`;
}

/** Reads `npm run dev -- --var NAME:VALUE …` (also NAME=VALUE, and --var=NAME:VALUE). */
export function parseVarArgs(argv: string[]): { entries: [string, string][]; problems: string[] } {
  const entries: [string, string][] = [];
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    let pair: string | undefined;
    if (arg === '--var') pair = argv[++i];
    else if (arg.startsWith('--var=')) pair = arg.slice('--var='.length);
    else {
      problems.push(
        `unknown argument "${arg}": npm run dev takes only --var NAME:VALUE (see the README's Configuration)`,
      );
      continue;
    }
    const match = pair === undefined ? null : /^([A-Za-z_][A-Za-z0-9_]*)[:=](.*)$/s.exec(pair);
    if (!match) problems.push(`--var expects NAME:VALUE, got "${pair ?? ''}"`);
    else entries.push([match[1] ?? '', match[2] ?? '']);
  }
  return { entries, problems };
}

/**
 * Merges the three sources into the values to give the Worker (empty values mean unset), with where
 * each came from. Throws SettingsError listing every problem at once.
 */
export function resolveDevSettings(sources: {
  devVars?: string;
  env: Record<string, string | undefined>;
  argv: string[];
}): { values: Partial<Record<DevSettingName, string>>; origin: Partial<Record<DevSettingName, SettingSource>> } {
  const problems: string[] = [];
  const values: Partial<Record<DevSettingName, string>> = {};
  const origin: Partial<Record<DevSettingName, SettingSource>> = {};
  const set = (name: string, value: string, source: SettingSource, where: string) => {
    if (!isDevSetting(name)) {
      problems.push(`${where}: ${unknownName(name)}`);
      return;
    }
    if (value === '') {
      delete values[name];
      delete origin[name];
      return;
    }
    const problem = checkValue(name, value);
    if (problem) problems.push(`${where}: ${name} ${problem}`);
    else {
      values[name] = value;
      origin[name] = source;
    }
  };
  if (sources.devVars !== undefined) {
    const parsed = parseDevVars(sources.devVars);
    problems.push(...parsed.problems);
    for (const [name, value, line] of parsed.entries) set(name, value, '.dev.vars', `.dev.vars line ${line}`);
  }
  // The environment holds much else, so only the known names are read from it.
  for (const name of Object.keys(DEV_SETTINGS)) {
    const value = sources.env[name];
    if (value !== undefined) set(name, value, 'environment', 'environment');
  }
  const args = parseVarArgs(sources.argv);
  problems.push(...args.problems);
  for (const [name, value] of args.entries) set(name, value, '--var', '--var');
  if (problems.length) throw new SettingsError(problems);
  return { values, origin };
}
