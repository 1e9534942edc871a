import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { useEmbeddedPostgresBinaries } from '../utils/embedded-postgres-binaries';
import { decodeProtectedHeader } from 'jose';
import { DataSource } from 'typeorm';
import { TokenIssuanceAudit } from '../../src/accounts/audit/token-issuance-audit';
import { createOrganization, createServiceAccount } from '../factories/accounts';
import { basicAuth, tokenRequest } from '../utils/oauth';
import { ProbeModule } from '../utils/probe.module';
import { killPostgres } from '../utils/server-process';
import { createTestApp, TestApp } from '../utils/test-app';

useEmbeddedPostgresBinaries();

const quiet = { info: () => undefined, debug: () => undefined, warn: () => undefined };

/** Calls `attempt` until it returns true or `timeoutMs` passes; returns whether it succeeded. */
async function eventually(attempt: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await attempt().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

describe('database outage', () => {
  let dataDir: string;
  let db: EmbeddedPostgresHandle;
  let t: TestApp;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ca-outage-'));
    db = await startEmbeddedPostgres(dataDir, quiet);
    t = await createTestApp({
      databaseUrl: db.url,
      imports: [ProbeModule],
      settings: {
        MIGRATIONS_RUN: 'true',
        AUDIT_TOKEN_FLUSH_SECONDS: '3600',
        CLIENT_CACHE_SECONDS: '60',
        SIGNING_KEYS_RELOAD_SECONDS: '1',
      },
    });
  }, 60_000);

  afterAll(async () => {
    await t?.close().catch(() => undefined);
    await db?.stop().catch(() => undefined);
    if (dataDir) {
      killPostgres(join(dataDir, 'postgres'));
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('answers 503 while the database is down and recovers when it is back, without a restart', async () => {
    await t.http.get('/api/v1/probe/db').expect(200);
    await t.http.get('/health/ready').expect(200);
    const { port } = db;

    await db.stop();

    const ready = await t.http.get('/health/ready').expect(503);
    expect(ready.body.status).toBe('error');
    expect(ready.body.error.database).toMatchObject({ status: 'down' });
    expect(ready.headers['cache-control']).toBe('no-store');

    const started = Date.now();
    const probe = await t.http.get('/api/v1/probe/db').expect(503);
    const elapsed = Date.now() - started;
    expect(probe.body).toMatchObject({ error: 'database_unavailable' });
    expect(JSON.stringify(probe.body)).not.toContain(db.url);
    expect(probe.headers['retry-after']).toBe('5');
    expect(elapsed).toBeLessThan(t.settings.DATABASE_CONNECT_TIMEOUT_MS + 2_000);

    await t.http.get('/health/live').expect(200, { status: 'ok' });

    db = await startEmbeddedPostgres(dataDir, quiet, { port });
    expect(db.port).toBe(port);
    expect(db.initialized).toBe(false);

    const probeBack = await eventually(async () => (await t.http.get('/api/v1/probe/db')).status === 200, 15_000);
    expect(probeBack).toBe(true);
    const readyBack = await eventually(async () => (await t.http.get('/health/ready')).status === 200, 15_000);
    expect(readyBack).toBe(true);
  }, 60_000);

  it('answers the token endpoint with 503 temporarily_unavailable in the OAuth error shape while the database is down', async () => {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id);
    const { port } = db;
    await db.stop();
    // A client this replica has not authenticated yet must be looked up in the database.
    for (const path of ['/oauth/token', '/token']) {
      const res = await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(sa.row.clientId, sa.clientSecret), path },
      );
      expect({ status: res.status, body: res.body }).toEqual({
        status: 503,
        body: { error: 'temporarily_unavailable', error_description: expect.any(String) },
      });
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['pragma']).toBe('no-cache');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(JSON.stringify(res.body)).not.toContain(db.url);
    }
    db = await startEmbeddedPostgres(dataDir, quiet, { port });
    const back = await eventually(
      async () =>
        (
          await tokenRequest(
            t,
            { grant_type: 'client_credentials' },
            { authorization: basicAuth(sa.row.clientId, sa.clientSecret) },
          )
        ).status === 200,
      15_000,
    );
    expect(back).toBe(true);
  }, 60_000);

  it('keeps token issuance counts while the database is down and writes them once it is back', async () => {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id);
    const auth = { authorization: basicAuth(sa.row.clientId, sa.clientSecret) };
    await tokenRequest(t, { grant_type: 'client_credentials' }, auth).expect(200);
    const { port } = db;
    await db.stop();
    // The client is cached, so tokens are still issued; their audit waits.
    await tokenRequest(t, { grant_type: 'client_credentials' }, auth).expect(200);
    await t.app.get(TokenIssuanceAudit).flush();
    await tokenRequest(t, { grant_type: 'client_credentials' }, auth).expect(200);
    expect(t.logs.some((l) => l.includes('could not write token issuance audit events'))).toBe(true);

    db = await startEmbeddedPostgres(dataDir, quiet, { port });
    const written = await eventually(async () => {
      await t.app.get(TokenIssuanceAudit).flush();
      const rows: { data: { count: number } }[] = await t.app
        .get(DataSource)
        .query(`SELECT data FROM audit_events WHERE action = 'oauth.token_issued' AND subject_id = $1`, [sa.row.id]);
      return rows.length === 1 && rows[0].data.count === 3;
    }, 15_000);
    expect(written).toBe(true);
  }, 60_000);

  it('keeps signing with the keys it has while it cannot reload them, and says so', async () => {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id);
    const auth = { authorization: basicAuth(sa.row.clientId, sa.clientSecret) };
    const issue = async () =>
      (await tokenRequest(t, { grant_type: 'client_credentials' }, auth).expect(200)).body.access_token as string;
    const before = await issue();
    const { port } = db;
    await db.stop();
    const warned = await eventually(
      async () => t.logs.some((l) => l.includes('could not reload the signing keys; keeping the current ones')),
      15_000,
    );
    expect(warned).toBe(true);
    // The client is cached: a token is still issued, signed with the key loaded before the outage.
    const during = await issue();
    expect(decodeProtectedHeader(during).kid).toBe(decodeProtectedHeader(before).kid);
    const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[];
    expect(jwks.map((k) => k.kid)).toContain(decodeProtectedHeader(before).kid);

    db = await startEmbeddedPostgres(dataDir, quiet, { port });
    const verified = await eventually(
      async () => (await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${during}`)).status === 200,
      15_000,
    );
    expect(verified).toBe(true);
  }, 60_000);
});
