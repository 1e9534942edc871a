import { execFile } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { promisify } from 'node:util';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { DataSource } from 'typeorm';
import { SigningKeysService } from '../../src/accounts/keys/signing-keys.service';
import { createUser, unique } from '../factories/accounts';
import { createTestApp, TestApp } from '../utils/test-app';
import { createTestDatabase, TEST_REDIS_URL } from '../utils/test-databases';

const run = promisify(execFile);
const randomIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
const PASSWORD = 'correct horse battery';

describe('login attempt limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '3', LOGIN_RATE_WINDOW_SECONDS: '60', TRUST_PROXY: '1' } });
  });
  afterAll(() => t.close());

  const login = (ip: string, username: string, password: string) =>
    t.http.post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ username, password });

  it('limits attempts per account, whatever the address', async () => {
    const { row } = await createUser(t, { password: PASSWORD });
    for (let i = 0; i < 3; i++) await login(randomIp(), row.username, 'wrong password!').expect(401);
    const blocked = await login(randomIp(), row.username, PASSWORD).expect(429);
    expect(blocked.body).toMatchObject({
      error: 'too_many_requests',
      details: { retry_after_seconds: expect.any(Number) },
    });
  });

  it('counts attempts by username and by e-mail against the same account', async () => {
    const email = `${unique('mail')}@example.edu`;
    const { row } = await createUser(t, { password: PASSWORD, email });
    await login(randomIp(), row.username, 'wrong password!').expect(401);
    await t.http
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', randomIp())
      .send({ email, password: 'wrong password!' })
      .expect(401);
    await login(randomIp(), row.username.toUpperCase(), 'wrong password!').expect(401);
    await t.http
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', randomIp())
      .send({ email, password: PASSWORD })
      .expect(429);
  });

  it('logs a person in by e-mail even when an account without a password has that e-mail as its username', async () => {
    const email = `${unique('mail')}@example.edu`;
    const { row } = await createUser(t, { password: PASSWORD, email });
    await createUser(t, { username: email });
    const res = await t.http
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', randomIp())
      .send({ email, password: PASSWORD })
      .expect(200);
    const me = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.access_token}`).expect(200);
    expect(me.body.id).toBe(row.id);
  });

  it('limits attempts per address, whatever the account', async () => {
    const ip = randomIp();
    for (let i = 0; i < 3; i++) await login(ip, unique('nobody'), 'wrong password!').expect(401);
    const { row } = await createUser(t, { password: PASSWORD });
    await login(ip, row.username, PASSWORD).expect(429);
    await login(randomIp(), row.username, PASSWORD).expect(200);
  });
});

describe('login attempt limits across replicas (Redis)', () => {
  it('counts attempts made on two API processes together', async () => {
    const settings = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `ca-test-${randomUUID()}`,
      LOGIN_RATE_LIMIT: '3',
      TRUST_PROXY: '1',
    };
    const a = await createTestApp({ settings });
    const b = await createTestApp({ settings, databaseUrl: a.database.url });
    try {
      const { row } = await createUser(a, { password: PASSWORD });
      const attempt = (app: TestApp) =>
        app.http
          .post('/api/v1/auth/login')
          .set('X-Forwarded-For', randomIp())
          .send({ username: row.username, password: 'wrong password!' });
      await attempt(a).expect(401);
      await attempt(b).expect(401);
      await attempt(a).expect(401);
      await attempt(b).expect(429);
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('deployments sharing one Redis', () => {
  it('keep their limits apart under their own REDIS_KEY_PREFIX, and put every key under it', async () => {
    const [first, second] = [`ca-test-${randomUUID()}`, `ca-test-${randomUUID()}`];
    const a = await createTestApp({
      settings: { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: first, LOGIN_RATE_LIMIT: '2', TRUST_PROXY: '1' },
    });
    const b = await createTestApp({
      settings: { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: second, LOGIN_RATE_LIMIT: '2', TRUST_PROXY: '1' },
    });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      // The same address failing on both: one deployment's failures do not count on the other.
      const ip = randomIp();
      const attempt = (app: TestApp) =>
        app.http
          .post('/api/v1/auth/login')
          .set('X-Forwarded-For', ip)
          .send({ username: unique('nobody'), password: 'x' });
      await attempt(a).expect(401);
      await attempt(a).expect(401);
      await attempt(a).expect(429);
      await attempt(b).expect(401);

      const keys = async (prefix: string) => {
        const found: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
          found.push(...batch);
          cursor = next;
        } while (cursor !== '0');
        return found;
      };
      const ofFirst = await keys(first);
      expect(ofFirst.length).toBeGreaterThan(0);
      // Limits and queues alike; the throttler storage wraps a key in a hash tag: {<key>:<name>}:hits.
      for (const key of ofFirst) expect(key.replace(/^\{/, '')).toMatch(new RegExp(`^${first}:(rl|bull):`));
      expect(ofFirst.some((k) => k.startsWith(`${first}:bull:`))).toBe(true);
      expect(ofFirst.some((k) => k.includes(`${first}:rl:login:ip:${ip}`))).toBe(true);
    } finally {
      redis.disconnect();
      await b.close();
      await a.close();
    }
  });
});

describe('first-start admin', () => {
  it('creates a staff admin once, who can log in', async () => {
    const t = await createTestApp({
      settings: { BOOTSTRAP_ADMIN_USERNAME: 'root', BOOTSTRAP_ADMIN_PASSWORD: PASSWORD },
    });
    const again = await createTestApp({
      settings: { BOOTSTRAP_ADMIN_USERNAME: 'second', BOOTSTRAP_ADMIN_PASSWORD: PASSWORD },
      databaseUrl: t.database.url,
    });
    try {
      const res = await t.http.post('/api/v1/auth/login').send({ username: 'root', password: PASSWORD }).expect(200);
      const me = await t.http
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${res.body.access_token}`)
        .expect(200);
      expect(me.body).toMatchObject({ name: 'root', is_staff: true });
      await again.http.post('/api/v1/auth/login').send({ username: 'second', password: PASSWORD }).expect(401);
      expect(t.logs.join('\n')).not.toContain(PASSWORD);
    } finally {
      await again.close();
      await t.close();
    }
  }, 90_000);
});

describe('ES256 signing keys', () => {
  it('signs with ES256 when JWT_ALG says so, and verifies those tokens', async () => {
    const t = await createTestApp({ settings: { JWT_ALG: 'ES256', LOGIN_RATE_LIMIT: '100' } });
    try {
      const { row } = await createUser(t, { password: PASSWORD });
      const res = await t.http
        .post('/api/v1/auth/login')
        .send({ username: row.username, password: PASSWORD })
        .expect(200);
      expect(decodeProtectedHeader(res.body.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
      await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.access_token}`).expect(200);
      const jwks = await t.http.get('/.well-known/jwks.json').expect(200);
      expect(jwks.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
      expect(jwks.body.keys[0].d).toBeUndefined();
    } finally {
      await t.close();
    }
  }, 90_000);
});

describe('issued tokens, checked by an independent verifier', () => {
  it.each(['RS256', 'ES256'] as const)(
    '%s: jose verifies them against the published JWKS, with exact header and claims',
    async (alg) => {
      const t = await createTestApp({
        settings: { JWT_ALG: alg, LOGIN_RATE_LIMIT: '100', ACCESS_TOKEN_TTL_SECONDS: '600' },
      });
      try {
        const { row } = await createUser(t, { password: PASSWORD });
        const login = () =>
          t.http.post('/api/v1/auth/login').send({ username: row.username, password: PASSWORD }).expect(200);
        const [a, b] = [(await login()).body.access_token as string, (await login()).body.access_token as string];
        const jwks = createLocalJWKSet((await t.http.get('/.well-known/jwks.json').expect(200)).body);
        const meta = (await t.http.get('/.well-known/oauth-authorization-server').expect(200)).body;
        const verified = await jwtVerify(a, jwks, {
          algorithms: [alg],
          typ: 'at+jwt',
          issuer: meta.issuer,
          requiredClaims: ['jti', 'iat', 'exp', 'sub', 'aud'],
        });
        expect(verified.protectedHeader).toEqual({ alg, kid: expect.any(String), typ: 'at+jwt' });
        expect(verified.payload).toMatchObject({
          sub: row.id,
          client_id: 'campus-access',
          kind: 'user',
          preferred_username: row.username,
        });
        expect(verified.payload.exp! - verified.payload.iat!).toBe(600);
        expect(Math.abs(verified.payload.iat! - Date.now() / 1000)).toBeLessThan(30);
        const other = await jwtVerify(b, jwks, { algorithms: [alg] });
        expect(other.payload.jti).not.toBe(verified.payload.jti);
        // One changed signature byte and the independent verifier refuses it too.
        const sig = Buffer.from(a.split('.')[2], 'base64url');
        sig[sig.length - 1] ^= 1;
        const forged = `${a.split('.').slice(0, 2).join('.')}.${sig.toString('base64url')}`;
        await expect(jwtVerify(forged, jwks, { algorithms: [alg] })).rejects.toThrow(/signature/i);
      } finally {
        await t.close();
      }
    },
    90_000,
  );
});

describe('command line', () => {
  it('creates an admin and rotates the signing key on the configured database', async () => {
    const { url } = await createTestDatabase();
    const env = { ...process.env, DATABASE_URL: url, NODE_ENV: 'test', ENV_FILE: '/nonexistent/.env' };
    const cli = (...args: string[]) =>
      run(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/cli.ts', ...args], {
        env,
        cwd: process.cwd(),
        timeout: 60_000,
      });
    const created = await cli('create-admin', '--username', 'operator', '--password', PASSWORD);
    expect(created.stdout).toContain('Created the staff admin "operator"');
    const rotated = await cli('rotate-signing-key');
    const [, kid, retiring, until] =
      /New active signing key ([0-9a-f-]{36}); retiring: ([0-9a-f-]{36}) \(published until (\S+)\)/.exec(
        rotated.stdout,
      ) ?? [];
    expect(kid).toBeDefined();
    await expect(cli('no-such-command')).rejects.toMatchObject({ code: 1 });

    const t = await createTestApp({ databaseUrl: url });
    try {
      await t.http.post('/api/v1/auth/login').send({ username: 'operator', password: PASSWORD }).expect(200);
      const jwks = await t.http.get('/.well-known/jwks.json').expect(200);
      expect(jwks.body.keys).toHaveLength(2);
      // The rotated-out key, retired by hand (as for a leaked key); the active one cannot be.
      await expect(cli('retire-signing-key', '--kid', kid)).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('rotate first'),
      });
      await expect(cli('retire-signing-key')).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('needs --kid'),
      });
      expect((await cli('retire-signing-key', '--kid', retiring)).stdout).toContain(
        `Signing key ${retiring} is retired.`,
      );
      await t.app.get(SigningKeysService).reload();
      expect(
        (await t.http.get('/.well-known/jwks.json').expect(200)).body.keys.map((k: { kid: string }) => k.kid),
      ).toEqual([kid]);
      const events = await t.app
        .get(DataSource)
        .query<{ actor_type: string; subject_id: string; data: Record<string, unknown> }[]>(
          "SELECT actor_type, subject_id, data FROM audit_events WHERE action = 'signing_key.rotated'",
        );
      expect(events).toEqual([
        {
          actor_type: 'system',
          subject_id: kid,
          data: { kid, alg: 'RS256', retiring: [retiring], retire_after: until, via: 'cli' },
        },
      ]);
    } finally {
      await t.close();
    }
  }, 90_000);
});
