/**
 * An LMS platform simulator for LTI 1.3 tests, benches and demos, built from the IMS specs (LTI 1.3
 * Core, IMS Security Framework 1.0, OpenID Connect Core) with jose. It serves over real HTTP:
 *
 *   GET  /jwks   the platform's keyset (`jwksRequests` counts the fetches)
 *   GET  /auth   the OIDC authorization endpoint (POST too): checks the tool's authentication request
 *                (scope=openid, response_type=id_token, response_mode=form_post, prompt=none, client_id,
 *                redirect_uri, login_hint, state, nonce) and answers the auto-submitting form_post page
 *                with `id_token` and `state` (and `lti_storage_target` when the launch has one) for a
 *                browser; a bad request is a 400 text naming the problem.
 *
 * API:
 *   const lms = await startLtiPlatform({ alg: 'RS256' | 'ES256', host: '127.0.0.1' });
 *   lms.issuer / clientId / deploymentId / authUrl / jwksUrl / tokenUrl / origin
 *   lms.registration(organizationId, extra?)   body for POST /api/v1/lti/platforms
 *   lms.prepare(spec) → login_hint            what the next authorization for that hint signs
 *   lms.loginParams(hint, targetLinkUri, extra?)  the third-party login parameters
 *   lms.authorize(authUrl) → form fields       the authorization over HTTP, as a browser would
 *   lms.signIdToken(spec, nonce) → JWT         a launch token without the HTTP round trip
 *   lms.rotateKey({ keepPrevious }) → kid      a new signing key (the old one stays published unless told)
 *   lms.close()
 *
 * A LaunchSpec tampers with anything: `claims` adds or replaces claims (`undefined` removes one),
 * `omit` removes claims, `header` replaces header parameters, `key` signs with another key (one the
 * JWKS does not hold), `nonce`/`state` replace the values the tool sent, `iat`/`exp` move the clock.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { CryptoKey, exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';

export const LTI = 'https://purl.imsglobal.org/spec/lti/claim';
export const ROLE = {
  instructor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
  learner: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
  teachingAssistant: 'http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant',
  mentor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor',
  contentDeveloper: 'http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper',
  administrator: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator',
  institutionFaculty: 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty',
  institutionAdministrator: 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator',
  systemAdministrator: 'http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator',
} as const;

export interface PlatformKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newPlatformKey(alg: 'RS256' | 'ES256' = 'RS256'): Promise<PlatformKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface LaunchSpec {
  sub?: string;
  roles?: string[];
  /** `null`: a launch without a context. */
  context?: { id: string; title?: string; label?: string } | null;
  resourceLink?: { id: string; title?: string };
  email?: string;
  givenName?: string;
  familyName?: string;
  name?: string;
  custom?: Record<string, string>;
  targetLinkUri?: string;
  messageType?: string;
  deploymentId?: string;
  /** The platform's postMessage storage frame; sent back in the launch form post. */
  storageTarget?: string;
  /** Claims to add or replace (`undefined` removes one). */
  claims?: Record<string, unknown>;
  /** Claims to remove. */
  omit?: string[];
  /** Header parameters to add or replace. */
  header?: Record<string, unknown>;
  /** Sign with this key instead of the platform's current one. */
  key?: PlatformKey;
  /** Replace the nonce / state the tool sent. */
  nonce?: string;
  state?: string;
  /** Seconds from now. */
  iat?: number;
  exp?: number;
}

export interface LtiPlatformSimulator {
  origin: string;
  issuer: string;
  clientId: string;
  deploymentId: string;
  authUrl: string;
  jwksUrl: string;
  tokenUrl: string;
  key: PlatformKey;
  jwksRequests: number;
  authRequests: URLSearchParams[];
  registration(organizationId: string, extra?: Record<string, unknown>): Record<string, unknown>;
  prepare(spec?: LaunchSpec): string;
  loginParams(
    loginHint: string,
    targetLinkUri: string,
    extra?: Record<string, string | undefined>,
  ): Record<string, string>;
  authorize(authUrl: string): Promise<Record<string, string>>;
  signIdToken(spec: LaunchSpec, nonce: string): Promise<string>;
  rotateKey(options?: { keepPrevious?: boolean }): Promise<string>;
  close(): Promise<void>;
}

const htmlEscape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Fields of the hidden inputs of a form_post page. */
export function formFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  const decode = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    out[decode(m[1])] = decode(m[2]);
  return out;
}

export async function startLtiPlatform(
  options: { alg?: 'RS256' | 'ES256'; host?: string } = {},
): Promise<LtiPlatformSimulator> {
  const host = options.host ?? '127.0.0.1';
  let keys: PlatformKey[] = [await newPlatformKey(options.alg ?? 'RS256')];
  const pending = new Map<string, LaunchSpec>();
  const targets = new Map<string, string>();
  const clientId = `client-${randomBytes(6).toString('hex')}`;
  const deploymentId = `deployment-${randomBytes(6).toString('hex')}`;
  let origin = '';

  const sim: LtiPlatformSimulator = {
    origin: '',
    issuer: '',
    clientId,
    deploymentId,
    authUrl: '',
    jwksUrl: '',
    tokenUrl: '',
    get key() {
      return keys[0];
    },
    jwksRequests: 0,
    authRequests: [],
    registration(organizationId, extra = {}) {
      return {
        organization: organizationId,
        name: 'Simulated LMS',
        issuer: sim.issuer,
        client_id: clientId,
        auth_login_url: sim.authUrl,
        auth_token_url: sim.tokenUrl,
        jwks_url: sim.jwksUrl,
        deployment_ids: [deploymentId],
        ...extra,
      };
    },
    prepare(spec = {}) {
      const hint = `hint-${randomBytes(8).toString('hex')}`;
      pending.set(hint, spec);
      return hint;
    },
    loginParams(loginHint, targetLinkUri, extra = {}) {
      targets.set(loginHint, targetLinkUri);
      const params: Record<string, string | undefined> = {
        iss: sim.issuer,
        login_hint: loginHint,
        target_link_uri: targetLinkUri,
        lti_message_hint: `message-${randomBytes(4).toString('hex')}`,
        client_id: clientId,
        lti_deployment_id: deploymentId,
        ...extra,
      };
      return Object.fromEntries(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
    },
    async authorize(authUrl) {
      const res = await fetch(authUrl);
      const html = await res.text();
      if (res.status !== 200) throw new Error(`authorization refused (${res.status}): ${html}`);
      return formFields(html);
    },
    async signIdToken(spec, nonce) {
      const now = Math.floor(Date.now() / 1000);
      const key = spec.key ?? keys[0];
      const claims: Record<string, unknown> = {
        iss: sim.issuer,
        aud: clientId,
        sub: spec.sub ?? `user-${randomBytes(6).toString('hex')}`,
        iat: now + (spec.iat ?? 0),
        exp: now + (spec.exp ?? 300),
        nonce: spec.nonce ?? nonce,
        [`${LTI}/message_type`]: spec.messageType ?? 'LtiResourceLinkRequest',
        [`${LTI}/version`]: '1.3.0',
        [`${LTI}/deployment_id`]: spec.deploymentId ?? deploymentId,
        [`${LTI}/target_link_uri`]: spec.targetLinkUri,
        [`${LTI}/resource_link`]: spec.resourceLink ?? { id: `link-${randomBytes(4).toString('hex')}`, title: 'Lab' },
        [`${LTI}/roles`]: spec.roles ?? [ROLE.learner],
        [`${LTI}/tool_platform`]: { guid: 'simulated-lms', name: 'Simulated LMS', product_family_code: 'simulator' },
        [`${LTI}/launch_presentation`]: { document_target: 'iframe', return_url: `${origin}/return` },
        ...(spec.context === null
          ? {}
          : { [`${LTI}/context`]: spec.context ?? { id: 'course-1', title: 'Course One', label: 'C1' } }),
        ...(spec.custom ? { [`${LTI}/custom`]: spec.custom } : {}),
        ...(spec.email !== undefined ? { email: spec.email } : {}),
        ...(spec.givenName !== undefined ? { given_name: spec.givenName } : {}),
        ...(spec.familyName !== undefined ? { family_name: spec.familyName } : {}),
        ...(spec.name !== undefined ? { name: spec.name } : {}),
        ...spec.claims,
      };
      for (const name of spec.omit ?? []) delete claims[name];
      for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
      return new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...spec.header } as { alg: string })
        .sign(key.privateKey);
    },
    async rotateKey({ keepPrevious = true } = {}) {
      const next = await newPlatformKey(keys[0].alg);
      keys = keepPrevious ? [next, ...keys] : [next];
      return next.kid;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/jwks') {
      sim.jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
      return;
    }
    if (url.pathname === '/auth') {
      let params = url.searchParams;
      if (req.method === 'POST') {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      }
      sim.authRequests.push(params);
      const problem = (() => {
        if (params.get('scope') !== 'openid') return 'scope must be openid';
        if (params.get('response_type') !== 'id_token') return 'response_type must be id_token';
        if (params.get('response_mode') !== 'form_post') return 'response_mode must be form_post';
        if (params.get('prompt') !== 'none') return 'prompt must be none';
        if (params.get('client_id') !== clientId) return 'unknown client_id';
        if (!params.get('redirect_uri')) return 'redirect_uri missing';
        if (!params.get('state') || !params.get('nonce')) return 'state and nonce are required';
        if (!pending.has(params.get('login_hint') ?? '')) return 'unknown login_hint';
        return null;
      })();
      if (problem) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(problem);
        return;
      }
      const spec = pending.get(params.get('login_hint')!)!;
      const idToken = await sim.signIdToken(
        { ...spec, targetLinkUri: spec.targetLinkUri ?? targets.get(params.get('login_hint')!) },
        params.get('nonce')!,
      );
      const fields: Record<string, string> = { id_token: idToken, state: spec.state ?? params.get('state')! };
      if (spec.storageTarget) fields.lti_storage_target = spec.storageTarget;
      const inputs = Object.entries(fields)
        .map(([n, v]) => `<input type="hidden" name="${htmlEscape(n)}" value="${htmlEscape(v)}">`)
        .join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(
        `<!doctype html><html><body><form id="launch" method="post" action="${htmlEscape(params.get('redirect_uri')!)}">${inputs}</form>` +
          `<script>document.getElementById('launch').submit()</script></body></html>`,
      );
      return;
    }
    if (url.pathname === '/token') {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'unsupported_grant_type' }));
      return;
    }
    res.writeHead(404);
    res.end();
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  origin = `http://${host}:${port}`;
  Object.assign(sim, {
    origin,
    issuer: origin,
    authUrl: `${origin}/auth`,
    jwksUrl: `${origin}/jwks`,
    tokenUrl: `${origin}/token`,
  });
  return sim;
}
