/**
 * `npm run dev` settings (dev/settings.ts): every setting of the configuration table is reachable from
 * .dev.vars, the environment and --var, in that order of precedence, and mistakes stop the start.
 */

import { describe, expect, it } from 'vitest';
import { DEV_SETTINGS, MANAGED_SETTINGS, resolveDevSettings, SettingsError } from '../dev/settings';
import readme from '../README.md?raw';
import type { Env } from '../src/env';

function problemsOf(sources: Parameters<typeof resolveDevSettings>[0]): string[] {
  try {
    resolveDevSettings(sources);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  throw new Error('expected the settings to be refused');
}

describe('npm run dev settings', () => {
  it('knows every setting of the README configuration table and every Env binding', () => {
    const table = readme.slice(readme.indexOf('## Configuration'));
    const documented = [...table.slice(0, table.indexOf('\n## ', 5)).matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.length).toBeGreaterThan(20);
    const known = [...Object.keys(DEV_SETTINGS), ...Object.keys(MANAGED_SETTINGS)];
    expect(known.sort()).toEqual([...documented].sort());
    // Compile-time: a new Env binding without an entry here fails the type-check.
    const covered: Record<Exclude<keyof Env, 'PLAYGROUND_DEMO_URL'>, true> = Object.fromEntries(
      known.map((name) => [name, true]),
    ) as Record<keyof typeof DEV_SETTINGS | keyof typeof MANAGED_SETTINGS, true>;
    expect(Object.keys(covered).length).toBe(known.length);
  });

  it('reads .dev.vars, then the environment, then --var, each overriding the one before', () => {
    const devVars = [
      '# local settings',
      'MODEL_TIMEOUT_MS=9000',
      'export DEFAULT_MODEL="llama3.2"',
      "OPENAI_BASE_URL='http://127.0.0.1:11434/v1'",
      'ARCHIVE_IDLE_DAYS=7   # a week',
      'OPENAI_API_KEY=sk-from-file',
    ].join('\n');
    const { values, origin } = resolveDevSettings({
      devVars,
      env: { MODEL_TIMEOUT_MS: '5000', PATH: '/usr/bin', OPENAI_API_KEY: '' },
      argv: ['--var', 'ARCHIVE_IDLE_DAYS:3', '--var=CORS_ORIGINS:http://localhost:3000,https://app.example.com'],
    });
    expect(values).toEqual({
      MODEL_TIMEOUT_MS: '5000',
      DEFAULT_MODEL: 'llama3.2',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      ARCHIVE_IDLE_DAYS: '3',
      CORS_ORIGINS: 'http://localhost:3000,https://app.example.com',
    });
    expect(origin).toMatchObject({
      MODEL_TIMEOUT_MS: 'environment',
      DEFAULT_MODEL: '.dev.vars',
      ARCHIVE_IDLE_DAYS: '--var',
    });
  });

  it('refuses unknown names and malformed values, naming each, all at once', () => {
    const problems = problemsOf({
      devVars: 'MODEL_TIMEOUT=5000\nPDF_MAX_PAGES=many\nADMIN_TOKEN=mine\nnot a line',
      env: { MODEL_MAX_RETRIES: '-1', OPENAI_API_STYLE: 'completions', OPENAI_BASE_URL: 'localhost:11434' },
      argv: ['--port', '9000', '--var', 'CORS_ORIGINS:*'],
    });
    const text = problems.join('\n');
    expect(text).toMatch(
      /\.dev\.vars line 1: MODEL_TIMEOUT is not a setting of this API \(did you mean MODEL_TIMEOUT_MS\?\)/,
    );
    expect(text).toMatch(/\.dev\.vars line 2: PDF_MAX_PAGES expected a whole number, got "many"/);
    expect(text).toMatch(/\.dev\.vars line 3: ADMIN_TOKEN cannot be set: npm run dev generates/);
    expect(text).toMatch(/\.dev\.vars line 4: expected NAME=value/);
    expect(text).toMatch(/environment: MODEL_MAX_RETRIES expected a whole number, got "-1"/);
    expect(text).toMatch(/environment: OPENAI_API_STYLE expected one of responses, chat/);
    expect(text).toMatch(/environment: OPENAI_BASE_URL expected an http\(s\) URL/);
    expect(text).toMatch(/unknown argument "--port"/);
    expect(text).toMatch(/--var: CORS_ORIGINS expected comma-separated origins/);
    expect(problems).toHaveLength(10);
  });

  it('refuses numbers out of range', () => {
    expect(problemsOf({ env: { MODEL_TIMEOUT_MS: '0' }, argv: [] })).toEqual([
      'environment: MODEL_TIMEOUT_MS must be at least 1, got 0',
    ]);
    expect(problemsOf({ env: { ATTACHMENTS_MAX_COUNT: '21' }, argv: [] })).toEqual([
      'environment: ATTACHMENTS_MAX_COUNT must be at most 20, got 21',
    ]);
  });
});
