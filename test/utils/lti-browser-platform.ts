import { randomBytes, randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import { IssuerKey, newIssuerKey } from './jwks-server';
import { LocalHttpServer, startLocalHttpServer } from './local-http';

/** Name of the platform's storage frame, sent to the tool as `lti_storage_target`. */
export const STORAGE_FRAME = 'lti_storage_frame';
/** Name of the iframe the tool is launched into. */
export const TOOL_FRAME = 'lti_tool_frame';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim';

/** Where the tool is: the URLs an LMS administrator registers (the `tool` block of the registration). */
export interface ToolUrls {
  loginUrl: string;
  launchUrl: string;
  targetLinkUri: string;
}

/** Who launches what: the learner, their course roles, the course and the link clicked. */
export interface LmsLaunch {
  sub: string;
  name?: string;
  givenName?: string;
  familyName?: string;
  email?: string;
  /** LIS role URIs (or short names) in the course. */
  roles: string[];
  context?: { id: string; title?: string; label?: string };
  resourceLink: { id: string; title?: string };
}

/** One request the auth endpoint refused, and why. */
export interface AuthRefusal {
  reason: string;
  params: Record<string, string>;
}

/**
 * The browser side of an LMS platform, on its own loopback origin (127.0.0.2 by default, another
 * site than the tool's 127.0.0.1 for the browser):
 *
 *   GET  /course?launch=…   the course page: it embeds the tool in an iframe by auto-submitting a
 *                           third-party initiated login into it, and holds the storage frame
 *   GET  /storage           the storage frame, answering `lti.capabilities`, `lti.put_data` and
 *                           `lti.get_data` (IMS LTI Client Side postMessages and postMessage Storage)
 *   GET|POST /auth          the OIDC authentication endpoint: checks the tool's request, then answers
 *                           a page that form-posts the signed id_token and the state to the tool
 *   GET  /jwks.json         the platform's public keys
 */
export interface LmsBrowserPlatform {
  origin: string;
  issuer: string;
  clientId: string;
  deploymentId: string;
  authLoginUrl: string;
  authTokenUrl: string;
  jwksUrl: string;
  key: IssuerKey;
  server: LocalHttpServer;
  /**
   * The course page that launches `launch` into the tool; `storage: false` leaves out the storage
   * frame and `lti_storage_target`, as a platform without postMessage storage does.
   */
  coursePage(launch: LmsLaunch, options?: { storage?: boolean }): string;
  /**
   * The parameters of a third-party initiated login for `launch` (what the course page posts to the
   * tool), for clients that are not a browser; `storageTarget` adds `lti_storage_target`.
   */
  loginInitiation(launch: LmsLaunch, options?: { storageTarget?: boolean }): Record<string, string>;
  /** Registers the tool (its URLs, as the registration's `tool` block gives them). */
  registerTool(urls: ToolUrls): void;
  /** Requests the auth endpoint refused. */
  refusals: AuthRefusal[];
  /** id_tokens the auth endpoint issued. */
  issued: string[];
  close(): Promise<void>;
}

export interface LmsBrowserPlatformOptions {
  /** The tool's URLs, when known before the platform starts; else `registerTool()` later. */
  tool?: ToolUrls;
  host?: string;
  /** Default: a free port. */
  port?: number;
  clientId?: string;
  deploymentId?: string;
}

interface PendingLaunch {
  launch: LmsLaunch;
  messageHint: string;
  login: Record<string, string>;
}

export async function startLmsBrowserPlatform(options: LmsBrowserPlatformOptions): Promise<LmsBrowserPlatform> {
  const key = await newIssuerKey('RS256');
  const clientId = options.clientId ?? `client-${randomUUID()}`;
  const deploymentId = options.deploymentId ?? `deployment-${randomUUID()}`;
  const pending = new Map<string, PendingLaunch>();
  const refusals: AuthRefusal[] = [];
  const issued: string[] = [];
  let origin = '';
  let tool: ToolUrls | undefined = options.tool;
  const toolUrls = (): ToolUrls => {
    if (!tool) throw new Error('no tool registered with the platform yet (registerTool)');
    return tool;
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    if (req.method === 'GET' && url.pathname === '/jwks.json') {
      res.writeHead(200, { 'Content-Type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: [key.publicJwk] }));
    } else if (req.method === 'GET' && url.pathname === '/course') {
      const entry = pending.get(url.searchParams.get('launch') ?? '');
      if (!entry) return page(res, 404, 'Unknown launch', '<p>No such course link.</p>');
      page(res, 200, 'Course', coursePageBody(entry));
    } else if (req.method === 'GET' && url.pathname === '/storage') {
      page(res, 200, 'Platform storage', `<script>${storageScript(true)}</script>`);
    } else if (url.pathname === '/auth' && (req.method === 'GET' || req.method === 'POST')) {
      void readParams(req, url).then(
        (params) => authenticate(params, res),
        () => page(res, 400, 'Bad request', '<p>unreadable request</p>'),
      );
    } else {
      res.writeHead(404).end();
    }
  };

  const register = (launch: LmsLaunch, storageTarget: boolean): PendingLaunch => {
    const hint = randomBytes(12).toString('base64url');
    const messageHint = randomBytes(12).toString('base64url');
    const login: Record<string, string> = {
      iss: origin,
      login_hint: hint,
      target_link_uri: toolUrls().targetLinkUri,
      lti_message_hint: messageHint,
      client_id: clientId,
      lti_deployment_id: deploymentId,
    };
    if (storageTarget) login.lti_storage_target = STORAGE_FRAME;
    const entry = { launch, messageHint, login };
    pending.set(hint, entry);
    return entry;
  };

  const coursePageBody = ({ launch, login }: PendingLaunch) => {
    const storage = login.lti_storage_target !== undefined;
    const inputs = Object.entries(login)
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
      .join('');
    return `<h1>${escapeHtml(launch.context?.title ?? 'Course')}</h1>
<p>${escapeHtml(launch.resourceLink.title ?? launch.resourceLink.id)}</p>
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

  const authenticate = async (params: Record<string, string>, res: ServerResponse) => {
    const entry = pending.get(params.login_hint ?? '');
    const reason = refusalReason(params, entry);
    if (reason !== null || !entry) {
      refusals.push({ reason: reason ?? 'unknown login_hint', params });
      return page(res, 400, 'Login refused', `<p>${escapeHtml(reason ?? 'unknown login_hint')}</p>`);
    }
    const idToken = await signLaunch(entry.launch, params.nonce);
    // A login hint is good for one launch, like the course page that carried it.
    pending.delete(params.login_hint);
    issued.push(idToken);
    page(
      res,
      200,
      'Launching',
      `<form id="launch" method="post" action="${escapeHtml(params.redirect_uri)}">
<input type="hidden" name="id_token" value="${escapeHtml(idToken)}">
<input type="hidden" name="state" value="${escapeHtml(params.state)}">
</form><script>document.getElementById('launch').submit();</script>`,
    );
  };

  /** Why the OIDC authentication request must be refused (OIDC Core 3.1.2, LTI 1.3 §5.1.1.2), or null. */
  const refusalReason = (params: Record<string, string>, entry: PendingLaunch | undefined): string | null => {
    if (params.scope !== 'openid') return 'scope must be openid';
    if (params.response_type !== 'id_token') return 'response_type must be id_token';
    if (params.response_mode !== 'form_post') return 'response_mode must be form_post';
    if (params.prompt !== 'none') return 'prompt must be none';
    if (params.client_id !== clientId) return 'unknown client_id';
    if (params.redirect_uri !== tool?.launchUrl) return 'redirect_uri is not the registered one';
    if (!entry) return 'unknown login_hint';
    if (params.lti_message_hint !== entry.messageHint) return 'lti_message_hint does not belong to this login';
    if (!params.nonce) return 'nonce is required';
    if (!params.state) return 'state is required';
    return null;
  };

  const signLaunch = (launch: LmsLaunch, nonce: string) => {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: origin,
      aud: clientId,
      azp: clientId,
      sub: launch.sub,
      iat: now,
      exp: now + 300,
      nonce,
      name: launch.name,
      given_name: launch.givenName,
      family_name: launch.familyName,
      email: launch.email,
      [`${LTI}/message_type`]: 'LtiResourceLinkRequest',
      [`${LTI}/version`]: '1.3.0',
      [`${LTI}/deployment_id`]: deploymentId,
      [`${LTI}/target_link_uri`]: toolUrls().targetLinkUri,
      [`${LTI}/resource_link`]: launch.resourceLink,
      [`${LTI}/roles`]: launch.roles,
      [`${LTI}/context`]: launch.context && {
        ...launch.context,
        type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
      },
      [`${LTI}/launch_presentation`]: { document_target: 'iframe', return_url: `${origin}/course` },
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  };

  const server = await startLocalHttpServer(handler, { host: options.host ?? '127.0.0.2', port: options.port });
  origin = server.origin;
  return {
    origin,
    issuer: origin,
    clientId,
    deploymentId,
    authLoginUrl: `${origin}/auth`,
    authTokenUrl: `${origin}/token`,
    jwksUrl: `${origin}/jwks.json`,
    key,
    server,
    coursePage(launch, { storage = true } = {}) {
      return `${origin}/course?launch=${register(launch, storage).login.login_hint}`;
    },
    loginInitiation: (launch, { storageTarget = false } = {}) => ({ ...register(launch, storageTarget).login }),
    registerTool: (urls) => void (tool = urls),
    refusals,
    issued,
    close: () => server.close(),
  };
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

async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
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
