import { describe, expect, it } from 'vitest';
import { createTenant, data, mutate, query } from './helpers/api';
import { conversation } from './helpers/factories';
import { sqlRequest } from './helpers/sql-endpoint';

const MiB = 1024 * 1024;

async function errorOf(res: Response) {
  return { status: res.status, body: (await res.json()) as { message: string; code: string } };
}

describe('the local SQL endpoint refuses what Neon refuses', () => {
  it('a response over 10 MiB: 507, counted over the whole batch', async () => {
    const single = await errorOf(
      await sqlRequest({ query: "select repeat('x', 1048576) from generate_series(1, 11)", params: [] }),
    );
    expect(single).toMatchObject({ status: 507, body: { message: /response is too large/, code: '' } });
    // Each statement alone fits (6 MiB); together they do not.
    const six = { query: "select repeat('y', 1048576) from generate_series(1, 6)", params: [] };
    expect((await sqlRequest(six)).status).toBe(200);
    expect((await errorOf(await sqlRequest({ queries: [six, six] }))).status).toBe(507);
  });

  it('request JSON over 10 MiB: 413', async () => {
    const res = await errorOf(await sqlRequest({ query: 'select $1::text', params: ['z'.repeat(10 * MiB + 1)] }));
    expect(res).toMatchObject({ status: 413, body: { message: /request is too large/, code: '' } });
  });

  it('an unpaired surrogate: 400 with an empty code, nothing run', async () => {
    // JSON.stringify writes a lone surrogate as the escape "\ud83d": valid JSON, refused by Neon's serde.
    const res = await errorOf(await sqlRequest({ query: 'select $1::text', params: ['half an emoji \ud83d'] }));
    expect(res).toMatchObject({ status: 400, body: { code: '' } });
    const paired = await sqlRequest({ query: 'select $1::text as t', params: ['whole 😀'] });
    expect(paired.status).toBe(200);
  });

  it('runs every statement with the extended protocol: two statements in one query are refused', async () => {
    const res = await errorOf(await sqlRequest({ query: 'select 1; select 2', params: [] }));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('42601');
    expect(res.body.message).toMatch(/multiple commands/);
  });

  it('checks the connection string as Neon does: 400 with an empty code', async () => {
    const noPassword = await errorOf(
      await sqlRequest({ query: 'select 1', params: [] }, { connectionString: 'postgresql://app@db.localhost/app' }),
    );
    expect(noPassword).toMatchObject({ status: 400, body: { message: /password/, code: '' } });
    const badHost = await errorOf(
      await sqlRequest({ query: 'select 1', params: [] }, { connectionString: 'postgresql://app:pw@bad_host!/app' }),
    );
    expect(badHost).toMatchObject({ status: 400, body: { code: '' } });
    const none = await errorOf(await sqlRequest({ query: 'select 1', params: [] }, { connectionString: null }));
    expect(none).toMatchObject({ status: 400, body: { code: '' } });
  });

  it('answers only this start’s Worker: the secret is required and browsers are refused', async () => {
    expect((await sqlRequest({ query: 'select 1', params: [] }, { secret: null })).status).toBe(401);
    expect((await sqlRequest({ query: 'select 1', params: [] }, { secret: 'wrong-secret-wrong-secret' })).status).toBe(
      401,
    );
    const fromPage = await sqlRequest(
      { query: 'select 1', params: [] },
      { headers: { origin: 'http://127.0.0.1:8787' } },
    );
    expect(fromPage.status).toBe(403);
  });
});

describe('the API on a session whose full read passes 10 MiB', () => {
  it('answers a clear 413 for that read (never 503), and every other call on the session still works', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    // 1,100 messages of 10,000 characters: 11 MB in full, 2 MB for the newest 200.
    const filled = await sqlRequest({
      query: `insert into messages (id, organization_id, chat_session_id, role, content, created_at)
        select 'msg_BIG' || lpad(n::text, 23, '0'), $1, $2, (case when n % 2 = 0 then 'USER' else 'ASSISTANT' end)::message_role,
               repeat('w', 10000), now() - make_interval(secs => 2000 - n)
        from generate_series(1, 1100) n`,
      params: [tenant.organizationId, session.id],
    });
    expect(filled.status, await filled.clone().text()).toBe(200);

    const whole = await query('chat.getSession', { id: session.id }, { tenant });
    expect(whole.status).toBe(413);
    expect(whole.headers.get('retry-after')).toBeNull();
    expect(whole.body.error?.data).toMatchObject({ appCode: 'RESULT_TOO_LARGE', httpStatus: 413 });
    expect(whole.body.error?.message).toMatch(/larger than the database returns in one response/);

    const page = data(await query('chat.listMessages', { chatSessionId: session.id, limit: 20 }, { tenant }));
    expect(page).toHaveLength(20);
    const renamed = data(await mutate('chat.updateSession', { id: session.id, title: 'Still works' }, { tenant }));
    expect(renamed.title).toBe('Still works');
    const sent = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'hello' }, { tenant }));
    expect(sent).toMatchObject({ role: 'ASSISTANT', status: 'COMPLETE' });
  });
});
