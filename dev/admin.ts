/**
 * `npm run admin -- <command>`: the operator API (/admin/v1) from a terminal.
 *
 * Talks to ADMIN_BASE_URL, or else to the server `npm run dev` last started (the `baseUrl` it saved in
 * .dev/demo.json; DEV_STATE_DIR moves .dev as it does for `npm run dev`), with ADMIN_TOKEN or else the
 * token `npm run dev` generated in .dev/state.json. Works the same against a deployed Worker.
 * Failures print one line and exit 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const usage = `usage: npm run admin -- <command>
  create-org NAME
  list-orgs
  update-org ORG_ID [--name NAME] [--daily-cap N|default] [--idle-days N|default]
  delete-org ORG_ID --yes              deletes the organization and everything it owns
  create-key ORG_ID NAME
  list-keys ORG_ID
  revoke-key ORG_ID KEY_ID
  create-widget-key ORG_ID NAME --origin ORIGIN... --persona PERSONA_ID... [--max-message-chars N]
                    [--daily-messages N] [--visitor-requests-per-minute N]
                    [--allow-attachments [--max-attachments N] [--max-attachment-bytes N] [--attachment-type MIME...]]
  list-widget-keys ORG_ID
  revoke-widget-key ORG_ID KEY_ID
  widget-identity-secret ORG_ID        the secret the organization's backend signs user ids with
  usage ORG_ID --from YYYY-MM-DD [--to YYYY-MM-DD] [--persona PERSONA_ID]   per UTC day and persona
  create-webhook ORG_ID URL --event TYPE... [--description TEXT]   prints the whsec_ secret once
  list-webhooks ORG_ID
  update-webhook ORG_ID ENDPOINT_ID [--url URL] [--event TYPE...] [--description TEXT] [--enable|--disable]
  rotate-webhook-secret ORG_ID ENDPOINT_ID
  delete-webhook ORG_ID ENDPOINT_ID
  list-deliveries ORG_ID ENDPOINT_ID [--status PENDING|SUCCEEDED|FAILED]
  replay-delivery ORG_ID DELIVERY_ID
ADMIN_BASE_URL and ADMIN_TOKEN override the local dev server's address and token.`;

class CliError extends Error {}

const root = fileURLToPath(new URL('..', import.meta.url));
const stateDir = resolve(root, process.env.DEV_STATE_DIR || '.dev');

function readJson(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new CliError(`${file} is not valid JSON; delete it and start npm run dev again.`);
  }
}

function baseUrl(): string {
  if (process.env.ADMIN_BASE_URL) return process.env.ADMIN_BASE_URL.replace(/\/+$/, '');
  const saved = readJson(join(stateDir, 'demo.json'))?.baseUrl;
  if (typeof saved === 'string' && saved) return saved;
  return `http://127.0.0.1:${process.env.PORT || 8787}`;
}

function adminToken(): string {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const saved = readJson(join(stateDir, 'state.json'))?.adminToken;
  if (typeof saved === 'string' && saved) return saved;
  throw new CliError('No admin token: set ADMIN_TOKEN, or run npm run dev once to create a local one.');
}

async function call(method: string, path: string, body?: unknown): Promise<void> {
  const base = baseUrl();
  const token = adminToken();
  let res: Response;
  try {
    res = await fetch(`${base}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new CliError(`No server answers at ${base} (${cause}). Start it with npm run dev, or set ADMIN_BASE_URL.`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${method} ${base}/admin/v1${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const message = (parsed as { error?: { message?: string } }).error?.message ?? text.slice(0, 500);
    throw new CliError(`HTTP ${res.status}: ${message}`);
  }
  console.log(JSON.stringify(parsed, null, 2));
}

/** `N` sets an override, `default` (or `none`) clears it so the Worker's setting applies again. */
function override(flag: string, value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'default' || value === 'none') return null;
  if (!/^\d+$/.test(value)) throw new CliError(`--${flag} takes a whole number or "default", not "${value}".`);
  return Number(value);
}

async function run(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'daily-cap': { type: 'string' },
      'idle-days': { type: 'string' },
      yes: { type: 'boolean' },
      origin: { type: 'string', multiple: true },
      persona: { type: 'string', multiple: true },
      'max-message-chars': { type: 'string' },
      'daily-messages': { type: 'string' },
      'visitor-requests-per-minute': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'allow-attachments': { type: 'boolean' },
      'max-attachments': { type: 'string' },
      'max-attachment-bytes': { type: 'string' },
      'attachment-type': { type: 'string', multiple: true },
      url: { type: 'string' },
      event: { type: 'string', multiple: true },
      description: { type: 'string' },
      enable: { type: 'boolean' },
      disable: { type: 'boolean' },
      status: { type: 'string' },
    },
  });
  const [command, a, b] = positionals;
  const need = (value: string | undefined): string => {
    if (!value) throw new CliError(usage);
    return value;
  };
  const id = (value: string | undefined) => encodeURIComponent(need(value));
  switch (command) {
    case 'create-org':
      return call('POST', '/organizations', { name: need(a) });
    case 'list-orgs':
      return call('GET', '/organizations');
    case 'update-org': {
      const changes = {
        name: values.name,
        dailyModelCallCap: override('daily-cap', values['daily-cap']),
        idleArchiveDays: override('idle-days', values['idle-days']),
      };
      if (Object.values(changes).every((v) => v === undefined)) {
        throw new CliError('update-org needs at least one of --name, --daily-cap, --idle-days.');
      }
      return call('PATCH', `/organizations/${id(a)}`, changes);
    }
    case 'delete-org':
      if (!values.yes) {
        throw new CliError(
          `delete-org removes organization ${a ?? 'ORG_ID'} with its keys, personas, sessions and messages for good; add --yes to go ahead.`,
        );
      }
      return call('DELETE', `/organizations/${id(a)}?confirm=${id(a)}`);
    case 'create-key':
      return call('POST', `/organizations/${id(a)}/api-keys`, { name: need(b) });
    case 'list-keys':
      return call('GET', `/organizations/${id(a)}/api-keys`);
    case 'revoke-key':
      return call('POST', `/organizations/${id(a)}/api-keys/${id(b)}/revoke`);
    case 'create-widget-key': {
      if (!values.origin?.length || !values.persona?.length) {
        throw new CliError('create-widget-key needs at least one --origin and one --persona.');
      }
      const limit = (flag: string) => {
        const value = override(flag, values[flag as 'daily-messages']);
        return value === null ? undefined : value;
      };
      const visitorLimits = {
        maxMessageChars: limit('max-message-chars'),
        dailyMessages: limit('daily-messages'),
        requestsPerMinute: limit('visitor-requests-per-minute'),
        allowAttachments: values['allow-attachments'],
        maxAttachments: limit('max-attachments'),
        maxAttachmentBytes: limit('max-attachment-bytes'),
        attachmentTypes: values['attachment-type'],
      };
      const attachmentFlags = ['max-attachments', 'max-attachment-bytes', 'attachment-type'] as const;
      if (!values['allow-attachments'] && attachmentFlags.some((flag) => values[flag] !== undefined)) {
        throw new CliError('--max-attachments, --max-attachment-bytes and --attachment-type need --allow-attachments.');
      }
      return call('POST', `/organizations/${id(a)}/publishable-keys`, {
        name: need(b),
        allowedOrigins: values.origin,
        personaIds: values.persona,
        visitorLimits: Object.fromEntries(Object.entries(visitorLimits).filter(([, v]) => v !== undefined)),
      });
    }
    case 'list-widget-keys':
      return call('GET', `/organizations/${id(a)}/publishable-keys`);
    case 'revoke-widget-key':
      return call('POST', `/organizations/${id(a)}/publishable-keys/${id(b)}/revoke`);
    case 'widget-identity-secret':
      return call('GET', `/organizations/${id(a)}/widget-identity-secret`);
    case 'usage': {
      const from = need(values.from);
      const query = new URLSearchParams({ from, to: values.to ?? from });
      const persona = values.persona?.[0];
      if (persona) query.set('personaId', persona);
      return call('GET', `/organizations/${id(a)}/usage?${query}`);
    }
    default:
      return webhookCommand(command, a, b, values);
  }
}

/** The webhook commands (README "Webhooks"): the operator API under /organizations/:id/webhooks. */
function webhookCommand(
  command: string | undefined,
  a: string | undefined,
  b: string | undefined,
  values: {
    url?: string;
    event?: string[];
    description?: string;
    enable?: boolean;
    disable?: boolean;
    status?: string;
  },
): Promise<void> {
  const id = (value: string | undefined) => {
    if (!value) throw new CliError(usage);
    return encodeURIComponent(value);
  };
  const base = `/organizations/${id(a)}/webhooks`;
  switch (command) {
    case 'create-webhook':
      if (!values.event?.length) throw new CliError('create-webhook needs at least one --event.');
      return call('POST', base, { url: b, events: values.event, description: values.description });
    case 'list-webhooks':
      return call('GET', base);
    case 'update-webhook': {
      if (values.enable && values.disable) throw new CliError('give --enable or --disable, not both.');
      const enabled = values.enable ? true : values.disable ? false : undefined;
      return call('PATCH', `${base}/${id(b)}`, {
        url: values.url,
        events: values.event,
        description: values.description,
        enabled,
      });
    }
    case 'rotate-webhook-secret':
      return call('POST', `${base}/${id(b)}/rotate-secret`);
    case 'delete-webhook':
      return call('DELETE', `${base}/${id(b)}`);
    case 'list-deliveries':
      return call(
        'GET',
        `${base}/${id(b)}/deliveries${values.status ? `?status=${encodeURIComponent(values.status)}` : ''}`,
      );
    case 'replay-delivery':
      return call('POST', `${base}/deliveries/${id(b)}/replay`);
    default:
      throw new CliError(usage);
  }
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  // parseArgs reports unknown flags with a TypeError carrying a code; both are usage errors.
  const message =
    error instanceof CliError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
      ? (error as Error).message
      : `unexpected failure: ${String(error)}`;
  console.error(message);
  process.exit(1);
}
