/**
 * THE LMS platform simulator for LTI 1.3 tests, benches and demos, built from the IMS specs (LTI 1.3
 * Core, IMS Security Framework 1.0, OpenID Connect Core, LTI Client Side postMessages) with jose. It
 * serves over real HTTP, on a loopback origin of its own (127.0.0.1 unless `host` says another of
 * 127.0.0.0/8, which a browser treats as another site):
 *
 *   GET  /jwks.json (or /jwks)  the platform's keyset (`jwksRequests` counts the fetches; `jwksStatus`
 *                               makes it fail)
 *   GET|POST /auth              the OIDC authentication endpoint: checks the tool's request
 *                               (scope=openid, response_type=id_token, response_mode=form_post,
 *                               prompt=none, client_id, redirect_uri, login_hint, lti_message_hint,
 *                               state, nonce) and answers the auto-submitting form_post page with the
 *                               signed `id_token` and `state`; a refused request is a 400 page naming
 *                               the problem (kept in `refusals`)
 *   GET  /course?launch=…       a course page embedding the tool in an iframe: it auto-submits a
 *                               third-party initiated login into the frame and holds the storage frame
 *   GET  /storage               the storage frame answering `lti.capabilities`, `lti.put_data`,
 *                               `lti.get_data` (LTI Client Side postMessages, postMessage Storage)
 *   anything added with `route()` (the token endpoint, AGS, NRPS, dynamic registration… live in
 *   files of their own that compose with this simulator through `route()`, `signJwt()` and `keys`)
 *
 * API (all on one object):
 *   const lms = await startLtiPlatform({ alg: 'RS256' | 'ES256', host, port, clientId, deploymentId, tool });
 *   lms.origin / issuer / clientId / deploymentId / authUrl (= authLoginUrl) / jwksUrl / tokenUrl (= authTokenUrl)
 *   lms.registration(organizationId, extra?)      body for POST /api/v1/lti/platforms
 *   lms.registerTool(urls)                        the tool's URLs (then /auth checks redirect_uri)
 *   lms.prepare(spec) → login_hint                what the next authorizations for that hint sign (reusable)
 *   lms.loginParams(hint, targetLinkUri, extra?)  the third-party login parameters for that hint
 *   lms.loginInitiation(launch, { storageTarget }) a one-use hint + its login parameters (as the course page)
 *   lms.coursePage(launch, { storage })           the URL of a course page launching `launch` in an iframe
 *   lms.authorize(authUrl) → form fields          the authorization over HTTP, as a browser would
 *   lms.signIdToken(spec, nonce) → JWT            a launch token without the HTTP round trip
 *   lms.signJwt(claims, { header, key }) → JWT    any JWT signed with the platform's key (services)
 *   lms.rotateKey({ keepPrevious }) → kid         a new signing key (the old one stays published unless told)
 *   lms.route(method, path, handler)              serve another endpoint on the platform's origin
 *   lms.close()
 *
 * A LaunchSpec tampers with anything: `claims` adds or replaces claims (`undefined` removes one),
 * `omit` removes claims, `header` replaces header parameters, `key` signs with another key (one the
 * JWKS does not hold), `nonce`/`state` replace the values the tool sent, `iat`/`exp` move the clock,
 * `formFields` changes the form post. Cookies are the tool's: the launch helpers of lti-launch.ts send
 * them (or another value, or none).
 */
import { randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { JWTHeaderParameters, SignJWT } from 'jose';
import { IssuerKey, newIssuerKey } from './jwks-server';
import { LocalHttpServer, startLocalHttpServer } from './local-http';

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

/** Name of the platform's storage frame, sent to the tool as `lti_storage_target`. */
export const STORAGE_FRAME = 'lti_storage_frame';
/** Name of the iframe the tool is launched into on the course page. */
export const TOOL_FRAME = 'lti_tool_frame';

export type PlatformKey = IssuerKey;

export function newPlatformKey(alg: 'RS256' | 'ES256' = 'RS256'): Promise<PlatformKey> {
  return newIssuerKey(alg);
}

/** Where the tool is: the URLs an LMS administrator registers (the `tool` block of the registration). */
export interface ToolUrls {
  loginUrl: string;
  launchUrl: string;
  targetLinkUri: string;
}

export interface LaunchSpec {
  sub?: string;
  roles?: string[];
  /** `null`: a launch without a context. */
  context?: { id: string; title?: string; label?: string; type?: string[] } | null;
  resourceLink?: { id: string; title?: string; description?: string };
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
  /** Header parameters to add or replace (`undefined` removes one, e.g. `kid`). */
  header?: Record<string, unknown>;
  /** Sign with this key instead of the platform's current one. */
  key?: PlatformKey;
  /** Replace the nonce / state the tool sent. */
  nonce?: string;
  state?: string;
  /** Seconds from now. */
  iat?: number;
  exp?: number;
  /** Fields to add to (or, `undefined`, remove from) the form post of the auth answer. */
  formFields?: Record<string, string | undefined>;
}

/** Who launches what in a course page launch: a LaunchSpec with the learner, roles and link given. */
export interface LmsLaunch extends LaunchSpec {
  sub: string;
  roles: string[];
  context?: { id: string; title?: string; label?: string; type?: string[] };
  resourceLink: { id: string; title?: string };
}

/** One request the auth endpoint refused, and why. */
export interface AuthRefusal {
  reason: string;
  params: Record<string, string>;
}

export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  lms: LtiPlatformSimulator,
) => void | Promise<void>;

export interface LtiPlatformOptions {
  alg?: 'RS256' | 'ES256';
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: a free port. */
  port?: number;
  clientId?: string;
  deploymentId?: string;
  /** The tool's URLs, when known before the platform starts; else `registerTool()` later. */
  tool?: ToolUrls;
  /** The signing key to start with (default: a new one of `alg`), e.g. one kept across runs. */
  key?: PlatformKey;
}

export interface LtiPlatformSimulator {
  origin: string;
  issuer: string;
  clientId: string;
  deploymentId: string;
  /** The OIDC authentication endpoint (the registration's auth_login_url). */
  authUrl: string;
  authLoginUrl: string;
  jwksUrl: string;
  /** The OAuth 2 token endpoint (the registration's auth_token_url); served once a `route()` adds it. */
  tokenUrl: string;
  authTokenUrl: string;
  /** The key new tokens are signed with. */
  readonly key: PlatformKey;
  /** Every key the JWKS publishes, the current one first. */
  readonly keys: PlatformKey[];
  /** JWKS fetches so far. */
  jwksRequests: number;
  /** The status the JWKS answers with (200 serves the keys; anything else fails the fetch). */
  jwksStatus: number;
  /** Every authentication request received. */
  authRequests: URLSearchParams[];
  /** Authentication requests refused, and why. */
  refusals: AuthRefusal[];
  /** id_tokens the auth endpoint issued. */
  issued: string[];
  server: LocalHttpServer;
  registration(organizationId: string, extra?: Record<string, unknown>): Record<string, unknown>;
  registerTool(urls: ToolUrls): void;
  prepare(spec?: LaunchSpec): string;
  loginParams(
    loginHint: string,
    targetLinkUri: string,
    extra?: Record<string, string | undefined>,
  ): Record<string, string>;
  loginInitiation(launch: LaunchSpec, options?: { storageTarget?: boolean }): Record<string, string>;
  coursePage(launch: LaunchSpec, options?: { storage?: boolean }): string;
  authorize(authUrl: string): Promise<Record<string, string>>;
  signIdToken(spec: LaunchSpec, nonce: string): Promise<string>;
  signJwt(
    claims: Record<string, unknown>,
    options?: { header?: Record<string, unknown>; key?: PlatformKey },
  ): Promise<string>;
  rotateKey(options?: { keepPrevious?: boolean }): Promise<string>;
  route(method: string, path: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

/** Fields of the hidden inputs of a form_post page. */
export function formFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    out[unescapeHtml(m[1])] = unescapeHtml(m[2]);
  return out;
}

interface Pending {
  spec: LaunchSpec;
  /** Removed after one authorization (course page logins); `prepare()` hints stay. */
  once: boolean;
  /** The lti_message_hint of the login that carried this hint, if any. */
  messageHint?: string;
  targetLinkUri?: string;
  login?: Record<string, string>;
}

const defined = (o: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));

export async function startLtiPlatform(options: LtiPlatformOptions = {}): Promise<LtiPlatformSimulator> {
  let keys: PlatformKey[] = [options.key ?? (await newPlatformKey(options.alg ?? 'RS256'))];
  const pending = new Map<string, Pending>();
  const routes = new Map<string, RouteHandler>();
  const clientId = options.clientId ?? `client-${randomBytes(6).toString('hex')}`;
  const deploymentId = options.deploymentId ?? `deployment-${randomBytes(6).toString('hex')}`;
  let tool: ToolUrls | undefined = options.tool;
  let origin = '';

  const toolUrls = (): ToolUrls => {
    if (!tool) throw new Error('no tool registered with the platform yet (registerTool)');
    return tool;
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(e));
    });
  };
  const server = await startLocalHttpServer(handler, { host: options.host ?? '127.0.0.1', port: options.port });
  origin = server.origin;

  const sim: LtiPlatformSimulator = {
    origin,
    issuer: origin,
    clientId,
    deploymentId,
    authUrl: `${origin}/auth`,
    authLoginUrl: `${origin}/auth`,
    jwksUrl: `${origin}/jwks.json`,
    tokenUrl: `${origin}/token`,
    authTokenUrl: `${origin}/token`,
    get key() {
      return keys[0];
    },
    get keys() {
      return [...keys];
    },
    jwksRequests: 0,
    jwksStatus: 200,
    authRequests: [],
    refusals: [],
    issued: [],
    server,
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
    registerTool(urls) {
      tool = urls;
    },
    prepare(spec = {}) {
      const hint = `hint-${randomBytes(8).toString('hex')}`;
      pending.set(hint, { spec, once: false });
      return hint;
    },
    loginParams(loginHint, targetLinkUri, extra = {}) {
      const params = defined({
        iss: sim.issuer,
        login_hint: loginHint,
        target_link_uri: targetLinkUri,
        lti_message_hint: `message-${randomBytes(4).toString('hex')}`,
        client_id: clientId,
        lti_deployment_id: deploymentId,
        ...extra,
      });
      const entry = pending.get(loginHint);
      if (entry) Object.assign(entry, { targetLinkUri, messageHint: params.lti_message_hint, login: params });
      return params;
    },
    loginInitiation(launch, { storageTarget = false } = {}) {
      const hint = randomBytes(12).toString('base64url');
      pending.set(hint, { spec: launch, once: true });
      return sim.loginParams(hint, launch.targetLinkUri ?? toolUrls().targetLinkUri, {
        lti_storage_target: storageTarget ? STORAGE_FRAME : undefined,
      });
    },
    coursePage(launch, { storage = true } = {}) {
      const login = sim.loginInitiation(launch, { storageTarget: storage });
      return `${origin}/course?launch=${encodeURIComponent(login.login_hint)}`;
    },
    async authorize(authUrl) {
      const res = await fetch(authUrl);
      const html = await res.text();
      if (res.status !== 200) throw new Error(`authorization refused (${res.status}): ${html}`);
      return formFields(html);
    },
    async signIdToken(spec, nonce) {
      const now = Math.floor(Date.now() / 1000);
      const context = spec.context === undefined ? { id: 'course-1', title: 'Course One', label: 'C1' } : spec.context;
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
        [`${LTI}/target_link_uri`]: spec.targetLinkUri ?? tool?.targetLinkUri,
        [`${LTI}/resource_link`]: spec.resourceLink ?? { id: `link-${randomBytes(4).toString('hex')}`, title: 'Lab' },
        [`${LTI}/roles`]: spec.roles ?? [ROLE.learner],
        [`${LTI}/tool_platform`]: { guid: 'simulated-lms', name: 'Simulated LMS', product_family_code: 'simulator' },
        [`${LTI}/launch_presentation`]: { document_target: 'iframe', return_url: `${origin}/course` },
        ...(context === null
          ? {}
          : {
              [`${LTI}/context`]: {
                type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
                ...context,
              },
            }),
        ...(spec.custom ? { [`${LTI}/custom`]: spec.custom } : {}),
        email: spec.email,
        given_name: spec.givenName,
        family_name: spec.familyName,
        name: spec.name,
        ...spec.claims,
      };
      for (const name of spec.omit ?? []) delete claims[name];
      return sim.signJwt(claims, { header: spec.header, key: spec.key });
    },
    async signJwt(claims, { header, key = keys[0] } = {}) {
      const body = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
      const protectedHeader: Record<string, unknown> = { alg: key.alg, kid: key.kid, typ: 'JWT', ...header };
      for (const [name, value] of Object.entries(protectedHeader))
        if (value === undefined) delete protectedHeader[name];
      return new SignJWT(body).setProtectedHeader(protectedHeader as JWTHeaderParameters).sign(key.privateKey);
    },
    async rotateKey({ keepPrevious = true } = {}) {
      const next = await newPlatformKey(keys[0].alg as 'RS256' | 'ES256');
      keys = keepPrevious ? [next, ...keys] : [next];
      return next.kid;
    },
    route(method, path, routeHandler) {
      routes.set(`${method.toUpperCase()} ${path}`, routeHandler);
    },
    close: () => server.close(),
  };

  /** Why the OIDC authentication request must be refused (OIDC Core 3.1.2, LTI 1.3 §5.1.1.2), or null. */
  const refusalReason = (params: Record<string, string>, entry: Pending | undefined): string | null => {
    if (params.scope !== 'openid') return 'scope must be openid';
    if (params.response_type !== 'id_token') return 'response_type must be id_token';
    if (params.response_mode !== 'form_post') return 'response_mode must be form_post';
    if (params.prompt !== 'none') return 'prompt must be none';
    if (params.client_id !== clientId) return 'unknown client_id';
    if (!params.redirect_uri) return 'redirect_uri missing';
    if (tool && params.redirect_uri !== tool.launchUrl) return 'redirect_uri is not the registered one';
    if (!entry) return 'unknown login_hint';
    if (entry.messageHint !== undefined && params.lti_message_hint !== entry.messageHint)
      return 'lti_message_hint does not belong to this login';
    if (!params.nonce) return 'nonce is required';
    if (!params.state) return 'state is required';
    return null;
  };

  const authenticate = async (params: Record<string, string>, res: ServerResponse) => {
    sim.authRequests.push(new URLSearchParams(params));
    const entry = pending.get(params.login_hint ?? '');
    const reason = refusalReason(params, entry);
    if (reason !== null || !entry) {
      sim.refusals.push({ reason: reason ?? 'unknown login_hint', params });
      return page(res, 400, 'Login refused', `<p>${escapeHtml(reason ?? 'unknown login_hint')}</p>`);
    }
    // A course page's login hint is good for one launch, like the page that carried it.
    if (entry.once) pending.delete(params.login_hint);
    const spec = entry.spec;
    const idToken = await sim.signIdToken(
      { ...spec, targetLinkUri: spec.targetLinkUri ?? entry.targetLinkUri },
      params.nonce,
    );
    sim.issued.push(idToken);
    const fields = defined({
      id_token: idToken,
      state: spec.state ?? params.state,
      lti_storage_target: spec.storageTarget,
      ...spec.formFields,
    });
    const inputs = Object.entries(fields)
      .map(([n, v]) => `<input type="hidden" name="${escapeHtml(n)}" value="${escapeHtml(v)}">`)
      .join('');
    page(
      res,
      200,
      'Launching',
      `<form id="launch" method="post" action="${escapeHtml(params.redirect_uri)}">${inputs}</form>` +
        `<script>document.getElementById('launch').submit();</script>`,
    );
  };

  const coursePageBody = (entry: Pending) => {
    const login = entry.login ?? {};
    const storage = login.lti_storage_target !== undefined;
    const inputs = Object.entries(login)
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
      .join('');
    const link = entry.spec.resourceLink;
    return `<h1>${escapeHtml(entry.spec.context?.title ?? 'Course')}</h1>
<p>${escapeHtml(link?.title ?? link?.id ?? '')}</p>
${storage ? `<iframe name="${STORAGE_FRAME}" src="/storage" hidden></iframe>` : ''}
<iframe name="${TOOL_FRAME}" title="Campus Access" style="width: 100%; height: 420px; border: 1px solid #888"
  allow="storage-access"></iframe>
<form id="login" method="post" target="${TOOL_FRAME}" action="${escapeHtml(toolUrls().loginUrl)}">${inputs}</form>
<script>${
      storage
        ? `${storageScript(false)}
document.querySelector('iframe[name=${STORAGE_FRAME}]').addEventListener('load', function () {
  document.getElementById('login').submit();
});`
        : `document.getElementById('login').submit();`
    }</script>`;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const extra = routes.get(`${req.method} ${url.pathname}`);
    if (extra) return extra(req, res, url, sim);
    if (req.method === 'GET' && (url.pathname === '/jwks.json' || url.pathname === '/jwks')) {
      sim.jwksRequests++;
      if (sim.jwksStatus !== 200) {
        res.writeHead(sim.jwksStatus).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
    } else if (url.pathname === '/auth' && (req.method === 'GET' || req.method === 'POST')) {
      await authenticate(await readParams(req, url), res);
    } else if (req.method === 'GET' && url.pathname === '/course') {
      const entry = pending.get(url.searchParams.get('launch') ?? '');
      if (!entry) return page(res, 404, 'Unknown launch', '<p>No such course link.</p>');
      page(res, 200, 'Course', coursePageBody(entry));
    } else if (req.method === 'GET' && url.pathname === '/storage') {
      page(res, 200, 'Platform storage', `<script>${storageScript(true)}</script>`);
    } else {
      res.writeHead(404).end();
    }
  }

  return sim;
}

/**
 * The platform's postMessage handler. In the storage frame (`storage`) it answers capabilities and
 * keeps values per sending origin, so a tool reads back only what it stored; on the course page it
 * answers capabilities only, naming the storage frame as the target of `lti.put_data` and
 * `lti.get_data`. Every message handled is logged in `window.ltiMessages` for the test to read.
 */
function storageScript(storage: boolean): string {
  return `(function () {
  var STORAGE = ${storage};
  var store = {};
  var log = (window.ltiMessages = []);
  var capabilities = [
    { subject: 'lti.capabilities' },
    { subject: 'lti.put_data', frame: '${STORAGE_FRAME}' },
    { subject: 'lti.get_data', frame: '${STORAGE_FRAME}' }
  ];
  window.addEventListener('message', function (event) {
    var m = event.data;
    if (!m || typeof m !== 'object' || typeof m.subject !== 'string' || /\\.response$/.test(m.subject)) return;
    log.push({ subject: m.subject, origin: event.origin, key: m.key === undefined ? null : m.key });
    function reply(body) {
      body.message_id = m.message_id;
      event.source.postMessage(body, event.origin);
    }
    function refuse(code, message) {
      reply({ subject: m.subject + '.response', error: { code: code, message: message } });
    }
    var mine = store[event.origin] || (store[event.origin] = {});
    if (m.subject === 'lti.capabilities') {
      reply({ subject: 'lti.capabilities.response', supported_messages: capabilities });
    } else if (!STORAGE) {
      refuse('unsupported_subject', m.subject + ' goes to the ${STORAGE_FRAME} frame');
    } else if (m.subject === 'lti.put_data') {
      if (typeof m.key !== 'string' || typeof m.value !== 'string') return refuse('bad_request', 'key and value are required');
      mine[m.key] = m.value;
      reply({ subject: 'lti.put_data.response', key: m.key, value: m.value });
    } else if (m.subject === 'lti.get_data') {
      if (typeof m.key !== 'string') return refuse('bad_request', 'key is required');
      if (!Object.prototype.hasOwnProperty.call(mine, m.key)) {
        return reply({ subject: 'lti.get_data.response', key: m.key, error: { code: 'bad_request', message: 'no value under this key' } });
      }
      reply({ subject: 'lti.get_data.response', key: m.key, value: mine[m.key] });
    } else {
      refuse('unsupported_subject', 'unsupported subject ' + m.subject);
    }
  });
})();`;
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="font-family: sans-serif">${body}</body></html>`);
}

/** Query parameters, and for a POST the form body's too. */
export async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
  const params = Object.fromEntries(url.searchParams);
  if (req.method !== 'POST') return params;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return { ...params, ...Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) };
}

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

function unescapeHtml(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : "'",
  );
}

/** The simulator under the name the browser tests use. */
export type LmsBrowserPlatform = LtiPlatformSimulator;
export type LmsBrowserPlatformOptions = LtiPlatformOptions;

/** The simulator on 127.0.0.2 by default: a site other than the tool's 127.0.0.1 for a browser. */
export function startLmsBrowserPlatform(options: LtiPlatformOptions = {}): Promise<LtiPlatformSimulator> {
  return startLtiPlatform({ host: '127.0.0.2', ...options });
}
