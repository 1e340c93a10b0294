/**
 * `npm run admin -- <command>`: the operator API from a terminal.
 *   create-org NAME · list-orgs · create-key ORG_ID NAME · list-keys ORG_ID · revoke-key ORG_ID KEY_ID
 * Talks to ADMIN_BASE_URL (default: the local dev server) with ADMIN_TOKEN (default: the token
 * `npm run dev` generated in .dev/state.json). Works the same against a deployed Worker.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const stateFile = fileURLToPath(new URL('../.dev/state.json', import.meta.url));
const base = process.env.ADMIN_BASE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
const token =
  process.env.ADMIN_TOKEN ??
  (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { adminToken: string }).adminToken : '');

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) {
    console.error(`HTTP ${res.status}: ${text}`);
    process.exit(1);
  }
  console.log(JSON.stringify(JSON.parse(text), null, 2));
}

const [command, a, b] = process.argv.slice(2);
const usage =
  'usage: npm run admin -- create-org NAME | list-orgs | create-key ORG_ID NAME | list-keys ORG_ID | revoke-key ORG_ID KEY_ID';
if (!token) {
  console.error('No admin token: set ADMIN_TOKEN (or run npm run dev once to create a local one).');
  process.exit(1);
}
switch (command) {
  case 'create-org':
    if (!a) throw new Error(usage);
    await call('POST', '/organizations', { name: a });
    break;
  case 'list-orgs':
    await call('GET', '/organizations');
    break;
  case 'create-key':
    if (!a || !b) throw new Error(usage);
    await call('POST', `/organizations/${encodeURIComponent(a)}/api-keys`, { name: b });
    break;
  case 'list-keys':
    if (!a) throw new Error(usage);
    await call('GET', `/organizations/${encodeURIComponent(a)}/api-keys`);
    break;
  case 'revoke-key':
    if (!a || !b) throw new Error(usage);
    await call('POST', `/organizations/${encodeURIComponent(a)}/api-keys/${encodeURIComponent(b)}/revoke`);
    break;
  default:
    console.error(usage);
    process.exit(1);
}
