/**
 * The token service as integrators use it: openid-client 6, oauth4webapi 3, jose 6 (with fetch) and
 * simple-oauth2 5, each against the real app listening on a real port, with PUBLIC_URL set to the URL the
 * clients use. Each discovers the server (RFC 8414), gets tokens with client_secret_basic,
 * client_secret_post and private_key_jwt, validates a token as a resource server (RFC 9068), revokes it
 * (RFC 7009) and sees it refused, and introspects active and inactive tokens (RFC 7662).
 */
import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { ClientCredentials } from 'simple-oauth2';
import { createOrganization, createServiceAccount, createStaff } from '../factories/accounts';
import { IssuerKey, newIssuerKey } from '../utils/jwks-server';
import { closedPort } from '../utils/local-http';
import { basicAuth } from '../utils/oauth';
import { createTestApp, TestApp } from '../utils/test-app';

const AUDIENCE = 'campus-access';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface SecretClient {
  clientId: string;
  secret: string;
}
interface KeyClient {
  clientId: string;
  key: IssuerKey;
}

/** The app on 127.0.0.1 at a free port, PUBLIC_URL (and so the issuer) set to that URL, plus its clients. */
async function listeningApp(settings: Record<string, string> = {}) {
  const port = await closedPort();
  const origin = `http://127.0.0.1:${port}`;
  const t = await createTestApp({ settings: { PUBLIC_URL: origin, LOGIN_RATE_LIMIT: '10000', ...settings } });
  await t.app.listen(port, '127.0.0.1');
  return { t, origin };
}

describe('OAuth client libraries against the token service', () => {
  let t: TestApp;
  let origin: string;
  let staffAuth: Record<string, string>;
  let resourceServer: SecretClient;

  beforeAll(async () => {
    ({ t, origin } = await listeningApp());
    staffAuth = (await createStaff(t)).auth;
    const rs = await createServiceAccount(t, (await createOrganization(t)).id, { scopes: ['token:introspect'] });
    resourceServer = { clientId: rs.row.clientId, secret: rs.clientSecret };
  });
  afterAll(() => t.close());

  async function secretClient(): Promise<SecretClient> {
    const sa = await createServiceAccount(t, (await createOrganization(t)).id, { scopes: ['courses:read'] });
    return { clientId: sa.row.clientId, secret: sa.clientSecret };
  }

  async function keyClient(alg: 'RS256' | 'ES256' = 'RS256'): Promise<KeyClient> {
    const key = await newIssuerKey(alg);
    const org = await createOrganization(t);
    const res = await t.http
      .post('/api/v1/service-accounts')
      .set(staffAuth)
      .send({ organization: org.id, name: 'keyed', allowed_scopes: ['courses:read'], jwks: { keys: [key.publicJwk] } })
      .expect(201);
    return { clientId: res.body.client_id, key };
  }

  /** RFC 8414 metadata, read as a client without a discovery library does. */
  const discoverWithFetch = async (): Promise<Record<string, string> & { issuer: string }> =>
    (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json() as Promise<
      Record<string, string> & { issuer: string }
    >;

  /** What our API answers to a request bearing the token. */
  const apiStatus = async (token: string) =>
    (await fetch(`${origin}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status;

  /** RFC 9068 validation with jose, as a resource server configured from the discovered metadata does it. */
  async function joseValidates(token: string, meta: { issuer: string; jwks_uri?: string }) {
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(meta.jwks_uri!)), {
      issuer: meta.issuer,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: ['RS256', 'ES256'],
      requiredClaims: ['sub', 'client_id', 'iat', 'exp', 'jti'],
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    return payload;
  }

  describe('openid-client 6', () => {
    const discover = (clientId: string, auth: openid.ClientAuth) =>
      openid.discovery(new URL(origin), clientId, undefined, auth, {
        algorithm: 'oauth2',
        execute: [openid.allowInsecureRequests],
      });

    it('discovers the server and gets tokens with client_secret_basic, client_secret_post and private_key_jwt', async () => {
      const secret = await secretClient();
      const keyed = await keyClient();
      const configs = [
        await discover(secret.clientId, openid.ClientSecretBasic(secret.secret)),
        await discover(secret.clientId, openid.ClientSecretPost(secret.secret)),
        await discover(keyed.clientId, openid.PrivateKeyJwt({ key: keyed.key.privateKey, kid: keyed.key.kid })),
      ];
      expect(configs[0].serverMetadata()).toMatchObject({
        issuer: origin,
        token_endpoint: `${origin}/oauth/token`,
        revocation_endpoint: `${origin}/oauth/revoke`,
        introspection_endpoint: `${origin}/oauth/introspect`,
      });
      for (const config of configs) {
        const tokens = await openid.clientCredentialsGrant(config, { scope: 'courses:read' });
        expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'courses:read', expires_in: 600 });
        expect(await joseValidates(tokens.access_token, config.serverMetadata())).toMatchObject({
          client_id: config.clientMetadata().client_id,
          scope: 'courses:read',
        });
        expect(await apiStatus(tokens.access_token)).toBe(200);
      }
    });

    it('introspects an active token, revokes it, and then sees it refused and inactive', async () => {
      const keyed = await keyClient('ES256');
      const config = await discover(
        keyed.clientId,
        openid.PrivateKeyJwt({ key: keyed.key.privateKey, kid: keyed.key.kid }),
      );
      const rs = await discover(resourceServer.clientId, openid.ClientSecretBasic(resourceServer.secret));
      const { access_token } = await openid.clientCredentialsGrant(config);
      expect(await openid.tokenIntrospection(rs, access_token)).toMatchObject({
        active: true,
        client_id: keyed.clientId,
        token_type: 'Bearer',
      });
      await openid.tokenRevocation(config, access_token);
      expect(await apiStatus(access_token)).toBe(401);
      expect(await openid.tokenIntrospection(rs, access_token)).toEqual({ active: false });
      expect(await openid.tokenIntrospection(rs, 'not-a-token')).toEqual({ active: false });
    });

    it('reports our errors as OAuth errors: invalid_client, invalid_scope, and a description it can read', async () => {
      const secret = await secretClient();
      const wrong = await discover(secret.clientId, openid.ClientSecretBasic('wrong'));
      // A 401 with a Basic challenge (RFC 6749 §5.2) comes as WWWAuthenticateChallengeError; our body is on its response.
      const refused = await openid.clientCredentialsGrant(wrong).then(
        () => undefined,
        (e: openid.WWWAuthenticateChallengeError) => e,
      );
      expect(refused).toMatchObject({ status: 401, cause: [{ scheme: 'basic' }] });
      expect(await refused!.response.json()).toMatchObject({ error: 'invalid_client' });
      const right = await discover(secret.clientId, openid.ClientSecretPost(secret.secret));
      await expect(openid.clientCredentialsGrant(right, { scope: 'x"y\\é' })).rejects.toMatchObject({
        error: 'invalid_scope',
        error_description: 'scope is malformed.',
      });
    });
  });

  describe('oauth4webapi 3', () => {
    const insecure = { [oauth.allowInsecureRequests]: true } as const;
    const discover = async () => {
      const issuer = new URL(origin);
      return oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
      );
    };

    it('discovers, gets tokens with all three methods and validates them with validateJwtAccessToken (RFC 9068)', async () => {
      const as = await discover();
      const secret = await secretClient();
      const keyed = await keyClient();
      const cases: [oauth.Client, oauth.ClientAuth][] = [
        [{ client_id: secret.clientId }, oauth.ClientSecretBasic(secret.secret)],
        [{ client_id: secret.clientId }, oauth.ClientSecretPost(secret.secret)],
        [{ client_id: keyed.clientId }, oauth.PrivateKeyJwt({ key: keyed.key.privateKey, kid: keyed.key.kid })],
      ];
      for (const [client, auth] of cases) {
        const response = await oauth.clientCredentialsGrantRequest(
          as,
          client,
          auth,
          { scope: 'courses:read' },
          insecure,
        );
        const tokens = await oauth.processClientCredentialsResponse(as, client, response);
        expect(tokens.token_type).toBe('bearer');
        const request = new Request(`${origin}/api/v1/auth/me`, {
          headers: { authorization: `Bearer ${tokens.access_token}` },
        });
        const claims = await oauth.validateJwtAccessToken(as, request, AUDIENCE, insecure);
        expect(claims).toMatchObject({
          client_id: client.client_id,
          iss: origin,
          aud: AUDIENCE,
          scope: 'courses:read',
        });
      }
    });

    it('revokes a token and introspects it before and after', async () => {
      const as = await discover();
      const secret = await secretClient();
      const client = { client_id: secret.clientId };
      const auth = oauth.ClientSecretBasic(secret.secret);
      const rs = { client_id: resourceServer.clientId };
      const rsAuth = oauth.ClientSecretPost(resourceServer.secret);
      const tokens = await oauth.processClientCredentialsResponse(
        as,
        client,
        await oauth.clientCredentialsGrantRequest(as, client, auth, {}, insecure),
      );
      const introspect = async (token: string) =>
        oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, token, insecure));
      expect(await introspect(tokens.access_token)).toMatchObject({ active: true, sub: expect.any(String) });
      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, client, auth, tokens.access_token, insecure),
      );
      expect(await apiStatus(tokens.access_token)).toBe(401);
      expect(await introspect(tokens.access_token)).toEqual({ active: false });
    });
  });

  describe('jose 6 (with fetch)', () => {
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });

    it('gets tokens with all three methods, validates them, revokes one and introspects it', async () => {
      const meta = await discoverWithFetch();
      const secret = await secretClient();
      const keyed = await keyClient('ES256');
      const assertion = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid: keyed.key.kid })
        .setIssuer(keyed.clientId)
        .setSubject(keyed.clientId)
        .setAudience(meta.token_endpoint)
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(keyed.key.privateKey);
      const requests: RequestInit[] = [
        {
          ...form({ grant_type: 'client_credentials' }),
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: basicAuth(secret.clientId, secret.secret),
          },
        },
        form({ grant_type: 'client_credentials', client_id: secret.clientId, client_secret: secret.secret }),
        form({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion }),
      ];
      const tokens: string[] = [];
      for (const init of requests) {
        const res = await fetch(meta.token_endpoint, init);
        expect(res.status).toBe(200);
        const body = (await res.json()) as { access_token: string };
        expect(await joseValidates(body.access_token, meta)).toMatchObject({ aud: AUDIENCE, iss: origin });
        tokens.push(body.access_token);
      }
      const rsAuth = basicAuth(resourceServer.clientId, resourceServer.secret);
      const introspect = async (token: string) =>
        (
          await fetch(meta.introspection_endpoint, {
            ...form({ token }),
            headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: rsAuth },
          })
        ).json();
      expect(await introspect(tokens[1])).toMatchObject({ active: true, client_id: secret.clientId });
      const revoked = await fetch(meta.revocation_endpoint, {
        ...form({ token: tokens[1], client_id: secret.clientId, client_secret: secret.secret }),
      });
      expect(revoked.status).toBe(200);
      expect(await apiStatus(tokens[1])).toBe(401);
      expect(await introspect(tokens[1])).toEqual({ active: false });
      // The others are untouched.
      expect(await apiStatus(tokens[0])).toBe(200);
    });
  });

  describe('simple-oauth2 5', () => {
    async function clientFor(id: string, secret: string, authorizationMethod: 'header' | 'body') {
      const meta = await discoverWithFetch();
      return new ClientCredentials({
        client: { id, secret },
        auth: {
          tokenHost: new URL(meta.token_endpoint).origin,
          tokenPath: new URL(meta.token_endpoint).pathname,
          revokePath: new URL(meta.revocation_endpoint).pathname,
        },
        options: { authorizationMethod },
      });
    }

    it('gets tokens with Basic, in the body and with a client assertion; revokes one, which is then refused', async () => {
      const secret = await secretClient();
      const keyed = await keyClient();
      const basic = await (
        await clientFor(secret.clientId, secret.secret, 'header')
      ).getToken({ scope: 'courses:read' });
      const post = await (await clientFor(secret.clientId, secret.secret, 'body')).getToken({});
      const assertion = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'RS256', kid: keyed.key.kid })
        .setIssuer(keyed.clientId)
        .setSubject(keyed.clientId)
        .setAudience(origin)
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(keyed.key.privateKey);
      // simple-oauth2 has no private_key_jwt of its own: the assertion goes as extra parameters, no secret.
      const keyedToken = await (
        await clientFor(keyed.clientId, '', 'body')
      ).getToken({
        client_assertion_type: JWT_BEARER,
        client_assertion: assertion,
      });
      const meta = await discoverWithFetch();
      for (const accessToken of [basic, post, keyedToken]) {
        const token = accessToken.token.access_token as string;
        await joseValidates(token, meta);
        expect(await apiStatus(token)).toBe(200);
      }
      expect(basic.token.scope).toBe('courses:read');
      // Revocation answers 200 with an empty body (RFC 7009 §2.2); simple-oauth2 parses JSON strictly unless told otherwise.
      await basic.revoke('access_token', { json: true });
      expect(await apiStatus(basic.token.access_token as string)).toBe(401);
      expect(await apiStatus(post.token.access_token as string)).toBe(200);
      const res = await fetch(meta.introspection_endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuth(resourceServer.clientId, resourceServer.secret),
        },
        body: new URLSearchParams({ token: basic.token.access_token as string }).toString(),
      });
      expect(await res.json()).toEqual({ active: false });
    });

    it('surfaces our OAuth errors', async () => {
      const secret = await secretClient();
      await expect((await clientFor(secret.clientId, 'wrong', 'header')).getToken({})).rejects.toMatchObject({
        output: { statusCode: 401 },
        data: { payload: { error: 'invalid_client' } },
      });
    });
  });
});

describe('Discovery of an issuer with a path, by openid-client and oauth4webapi', () => {
  let t: TestApp;
  let origin: string;
  beforeAll(async () => {
    const port = await closedPort();
    origin = `http://127.0.0.1:${port}`;
    t = await createTestApp({ settings: { PUBLIC_URL: origin, JWT_ISSUER: `${origin}/campus` } });
    await t.app.listen(port, '127.0.0.1');
  });
  afterAll(() => t.close());

  it('finds the metadata at /.well-known/oauth-authorization-server/campus, and the endpoints at PUBLIC_URL', async () => {
    const sa = await createServiceAccount(t, (await createOrganization(t)).id);
    const config = await openid.discovery(
      new URL(`${origin}/campus`),
      sa.row.clientId,
      undefined,
      openid.ClientSecretBasic(sa.clientSecret),
      { algorithm: 'oauth2', execute: [openid.allowInsecureRequests] },
    );
    expect(config.serverMetadata()).toMatchObject({
      issuer: `${origin}/campus`,
      token_endpoint: `${origin}/oauth/token`,
    });
    const tokens = await openid.clientCredentialsGrant(config);
    const payload = await jwtVerify(
      tokens.access_token,
      createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)),
      {
        issuer: `${origin}/campus`,
        audience: AUDIENCE,
        typ: 'at+jwt',
      },
    );
    expect(payload.payload.client_id).toBe(sa.row.clientId);

    const issuer = new URL(`${origin}/campus`);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }),
    );
    expect(as.token_endpoint).toBe(`${origin}/oauth/token`);
  });
});
