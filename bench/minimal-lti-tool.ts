/**
 * The ceiling of `npm run bench:lti`: an LTI 1.3 tool on bare node:http with every piece of state in
 * memory, doing what no LTI tool can skip on a launch, and nothing else:
 *
 *   GET|POST /lti/login   checks iss, login_hint, target_link_uri, client_id and lti_deployment_id, keeps
 *                         state + nonce, sets the state cookie, redirects to the platform
 *   POST /lti/launch      verifies the id_token with jose against the platform's cached keys (RS256/ES256,
 *                         kid), iss, aud/azp, exp/iat with skew, the nonce bound to the state and used
 *                         once, the cookie, deployment, version, message type, target, resource link,
 *                         roles and sub; finds or creates the user, the course and the membership;
 *                         redirects (303) to the target with a one-time launch_id
 *   POST /api/v1/lti/launches/{id}/exchange
 *                         once: signs an access token with jose and answers user, project and role
 *
 * Run as its own process (so its CPU time is its own):
 *   MINIMAL_LTI_TOOL='{"issuer":…,"clientId":…,"deploymentIds":[…],"jwksUrl":…,"authLoginUrl":…}' \
 *     node -r ts-node/register/transpile-only bench/minimal-lti-tool.ts
 * It prints `listening <origin>` when it is ready.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, generateKeyPair, JSONWebKeySet, jwtVerify, SignJWT } from 'jose';

export interface MinimalLtiToolConfig {
  issuer: string;
  clientId: string;
  deploymentIds: string[];
  jwksUrl: string;
  authLoginUrl: string;
}

const LTI = 'https://purl.imsglobal.org/spec/lti/claim';
const STATE_TTL_MS = 600_000;
const LAUNCH_TTL_MS = 60_000;
const SKEW_S = 60;
const COOKIE = 'lti_state';
const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership#';

function roleOf(roles: string[]): string {
  const names = roles.map((r) => r.replace(MEMBERSHIP, '').replace(/^.*\/membership\/[^#]*#/, ''));
  if (names.some((r) => r === 'Instructor' || r === 'Administrator' || r === 'ContentDeveloper')) {
    return 'project_manager';
  }
  if (names.some((r) => r === 'TeachingAssistant' || r === 'Mentor')) return 'project_contributor';
  return 'project_member';
}

export async function startMinimalLtiTool(config: MinimalLtiToolConfig, port = 0) {
  const jwks = createLocalJWKSet((await (await fetch(config.jwksUrl)).json()) as JSONWebKeySet);
  const signing = await generateKeyPair('RS256');
  const kid = randomUUID();
  const states = new Map<string, { nonce: string; expires: number }>();
  const usedNonces = new Map<string, number>();
  const launches = new Map<string, { expires: number; answer: Record<string, unknown> }>();
  const users = new Map<string, { id: string; username: string; email: string | null }>();
  const projects = new Map<string, { id: string; name: string }>();
  const memberships = new Map<string, string>();
  let origin = '';

  const login = async (req: IncomingMessage, res: ServerResponse) => {
    const p = await params(req);
    const target = p.target_link_uri ?? '';
    const fault = firstFault([
      [p.iss !== config.issuer, 'unknown_platform'],
      [!p.login_hint, 'missing_login_hint'],
      [!target.startsWith(`${origin}/`), 'invalid_target_link_uri'],
      [p.client_id !== undefined && p.client_id !== config.clientId, 'unknown_client_id'],
      [p.lti_deployment_id !== undefined && !config.deploymentIds.includes(p.lti_deployment_id), 'unknown_deployment'],
    ]);
    if (fault) return fail(res, 400, fault);
    const state = randomBytes(24).toString('base64url');
    const nonce = randomBytes(24).toString('base64url');
    states.set(state, { nonce, expires: Date.now() + STATE_TTL_MS });
    const auth = new URL(config.authLoginUrl);
    auth.search = new URLSearchParams({
      scope: 'openid',
      response_type: 'id_token',
      response_mode: 'form_post',
      prompt: 'none',
      client_id: config.clientId,
      redirect_uri: `${origin}/lti/launch`,
      login_hint: p.login_hint,
      state,
      nonce,
      ...(p.lti_message_hint === undefined ? {} : { lti_message_hint: p.lti_message_hint }),
    }).toString();
    res.writeHead(302, {
      Location: auth.toString(),
      'Set-Cookie': `${COOKIE}=${state}; Path=/lti; Max-Age=600; HttpOnly; Secure; SameSite=None; Partitioned`,
      'Cache-Control': 'no-store',
    });
    res.end();
  };

  const launch = async (req: IncomingMessage, res: ServerResponse) => {
    const p = await params(req);
    const bound = states.get(p.state ?? '');
    if (!bound || bound.expires < Date.now()) return fail(res, 400, 'invalid_state');
    if (cookie(req, COOKIE) !== p.state) return fail(res, 400, 'state_mismatch');
    states.delete(p.state);
    let claims: Record<string, unknown>;
    try {
      const verified = await jwtVerify(p.id_token ?? '', jwks, {
        algorithms: ['RS256', 'ES256'],
        issuer: config.issuer,
        audience: config.clientId,
        requiredClaims: ['exp', 'iat', 'sub', 'nonce'],
        clockTolerance: SKEW_S,
      });
      if (!verified.protectedHeader.kid) return fail(res, 401, 'missing_kid');
      claims = verified.payload as Record<string, unknown>;
    } catch {
      return fail(res, 401, 'invalid_signature');
    }
    const now = Date.now() / 1000;
    const aud = claims.aud;
    const target = claims[`${LTI}/target_link_uri`];
    const link = claims[`${LTI}/resource_link`] as { id?: unknown } | undefined;
    const roles = claims[`${LTI}/roles`];
    const fault = firstFault([
      [(claims.iat as number) > now + SKEW_S, 'iat_in_future'],
      [Array.isArray(aud) && aud.length > 1 && claims.azp !== config.clientId, 'invalid_azp'],
      [claims.nonce !== bound.nonce, 'nonce_mismatch'],
      [usedNonces.has(claims.nonce as string), 'nonce_reused'],
      [!config.deploymentIds.includes(claims[`${LTI}/deployment_id`] as string), 'unknown_deployment'],
      [claims[`${LTI}/version`] !== '1.3.0', 'invalid_version'],
      [claims[`${LTI}/message_type`] !== 'LtiResourceLinkRequest', 'unsupported_message_type'],
      [typeof target !== 'string' || !target.startsWith(`${origin}/`), 'invalid_target_link_uri'],
      [typeof link?.id !== 'string', 'missing_resource_link'],
      [!Array.isArray(roles), 'missing_roles'],
      [typeof claims.sub !== 'string' || claims.sub === '', 'missing_sub'],
    ]);
    if (fault) return fail(res, fault === 'invalid_azp' ? 401 : 400, fault);
    usedNonces.set(claims.nonce as string, claims.exp as number);

    const identity = `${config.issuer}|${claims.sub as string}`;
    let user = users.get(identity);
    const email = typeof claims.email === 'string' ? claims.email : null;
    if (!user) {
      user = { id: randomUUID(), username: `lti_user_${users.size + 1}`, email };
      users.set(identity, user);
    } else if (user.email !== email) {
      user.email = email;
    }
    const context = claims[`${LTI}/context`] as { id: string; title?: string } | undefined;
    let project: { id: string; name: string } | null = null;
    let role: string | null = null;
    if (context) {
      const key = `${config.issuer}|${context.id}`;
      project = projects.get(key) ?? { id: randomUUID(), name: context.title ?? `Course ${context.id}` };
      projects.set(key, project);
      role = roleOf(roles as string[]);
      memberships.set(`${project.id}|${user.id}`, role);
    }
    const id = randomBytes(24).toString('base64url');
    launches.set(id, { expires: Date.now() + LAUNCH_TTL_MS, answer: { user, project, role } });
    const to = new URL(target as string);
    to.searchParams.set('launch_id', id);
    res.writeHead(303, { Location: to.toString(), 'Cache-Control': 'no-store' });
    res.end();
  };

  const exchange = async (id: string, res: ServerResponse) => {
    const found = launches.get(id);
    launches.delete(id);
    if (!found || found.expires < Date.now()) return fail(res, 400, 'invalid_launch');
    const user = found.answer.user as { id: string };
    const accessToken = await new SignJWT({ typ: 'lti' })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
      .setIssuer(origin)
      .setAudience('campus-access')
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti(randomUUID())
      .sign(signing.privateKey);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: 3600, ...found.answer }));
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const run = (work: Promise<void>) => work.catch(() => fail(res, 500, 'internal_error'));
    if (path === '/lti/login' && (req.method === 'GET' || req.method === 'POST')) return void run(login(req, res));
    if (path === '/lti/launch' && req.method === 'POST') return void run(launch(req, res));
    const exchangeMatch = /^\/api\/v1\/lti\/launches\/([^/]+)\/exchange$/.exec(path);
    if (exchangeMatch && req.method === 'POST') return void run(exchange(exchangeMatch[1], res));
    if (path.startsWith('/app')) {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      return void res.end('<!doctype html><title>Tool</title>');
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

async function params(req: IncomingMessage): Promise<Record<string, string>> {
  const query = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
  if (req.method !== 'POST') return query;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return { ...query, ...Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) };
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === name) return v;
  }
  return undefined;
}

/** The code of the first failed check, or null. */
function firstFault(checks: [failed: boolean, code: string][]): string | null {
  return checks.find(([failed]) => failed)?.[1] ?? null;
}

function fail(res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(reason);
}

if (require.main === module) {
  const config = JSON.parse(process.env.MINIMAL_LTI_TOOL ?? '{}') as MinimalLtiToolConfig;
  void startMinimalLtiTool(config).then(({ origin }) => console.log(`listening ${origin}`));
}
