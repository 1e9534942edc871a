/**
 * The LTI Advantage side of an LMS, for tests and benches: the services a platform offers a tool,
 * built from the IMS specs (Security Framework 1.0 §4.1, AGS 2.0, NRPS 2.0, Deep Linking 2.0,
 * Dynamic Registration 1.0) with jose, over real HTTP. It composes with the launch simulator
 * (lti-platform.ts / lti-browser-platform.ts): register the launch simulator with
 * `auth_token_url: services.tokenUrl`, and put `services.agsClaim(ctx)` / `services.nrpsClaim(ctx)`
 * into the launch's claims.
 *
 *   POST /token                          client_credentials with a JWT client assertion (RFC 7523), verified
 *                                        against the tool's JWKS: iss = sub = client_id, aud = this URL, exp, unused jti
 *   GET|POST /contexts/:c/lineitems      line item container (Accept / Content-Type checked; ?resource_link_id=, ?tag=)
 *   GET|PUT|DELETE /contexts/:c/lineitems/:id
 *   POST /contexts/:c/lineitems/:id/scores    score+json, validated as strict platforms do (media type, userId,
 *                                        timestamp with milliseconds and zone, scoreGiven ≤ scoreMaximum, progress values)
 *   GET  /contexts/:c/lineitems/:id/results
 *   GET  /contexts/:c/memberships        NRPS, paged (?limit=, Link rel="next"), ?role= and ?rlid= filters
 *   GET  /.well-known/openid-configuration, POST /register   dynamic registration
 *   POST /deep-link-return               keeps what a tool's deep-linking answer posts
 *
 * Faults: `failNext(kind, status, n)` answers the next n calls of a kind with a status;
 * `revokeTokens()` makes every issued token answer 401.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createLocalJWKSet, JSONWebKeySet, jwtVerify } from 'jose';

export const AGS = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  result: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
} as const;
export const NRPS_SCOPE = 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly';
export const AGS_CLAIM = 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint';
export const NRPS_CLAIM = 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice';

const MEDIA = {
  lineItem: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItems: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  score: 'application/vnd.ims.lis.v1.score+json',
  results: 'application/vnd.ims.lis.v2.resultcontainer+json',
  memberships: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
};
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,}(Z|[+-]\d{2}:\d{2})$/;

export interface SimMember {
  user_id: string;
  roles: string[];
  status?: 'Active' | 'Inactive' | 'Deleted';
  name?: string;
  given_name?: string;
  family_name?: string;
  email?: string;
  /** Only listed with ?rlid= of these links. */
  links?: string[];
}

export interface SimLineItem {
  id: string;
  label: string;
  scoreMaximum: number;
  resourceLinkId?: string;
  resourceId?: string;
  tag?: string;
  scores: Record<string, unknown>[];
}

export type FaultKind = 'token' | 'scores' | 'lineitems' | 'memberships';

export interface LtiServicesPlatform {
  origin: string;
  issuer: string;
  tokenUrl: string;
  openidConfigurationUrl: string;
  /** Token requests that got a token. */
  tokenRequests: number;
  /** Refused token requests, with why. */
  tokenRefusals: string[];
  /** Every service call: method, path, status. */
  calls: { method: string; path: string; status: number }[];
  /** Refused scores, with why (what a strict platform answers 400 for). */
  scoreRefusals: string[];
  lineItems(context: string): SimLineItem[];
  agsClaim(context: string, options?: { lineitem?: boolean; scope?: string[] }): Record<string, unknown>;
  nrpsClaim(context: string): Record<string, unknown>;
  setRoster(context: string, members: SimMember[]): void;
  failNext(kind: FaultKind, status: number, times?: number): void;
  revokeTokens(): void;
  /** Registration requests received, and the platform configuration the tool registered. */
  registrations: { token: string | null; body: Record<string, unknown> }[];
  registrationToken: string;
  deepLinkReturns: Record<string, string>[];
  deepLinkReturnUrl: string;
  close(): Promise<void>;
}

export async function startLtiServicesPlatform(options: {
  /** The client id the tool was given (its assertions' iss and sub). */
  clientId: string;
  /** The tool's public keys (its /lti/jwks.json), fetched when an assertion is verified. */
  toolJwks: () => Promise<JSONWebKeySet>;
  host?: string;
  tokenTtlSeconds?: number;
  /** Largest memberships page (the tool may ask for less with ?limit=). */
  pageSize?: number;
  /** Refuse a score older than the user's last one (default true); off, such a score is kept anyway (benches). */
  rejectOlderScores?: boolean;
}): Promise<LtiServicesPlatform> {
  const host = options.host ?? '127.0.0.1';
  const tokens = new Map<string, { scopes: string[]; expiresAt: number }>();
  const jtis = new Set<string>();
  const items = new Map<string, SimLineItem[]>();
  const rosters = new Map<string, SimMember[]>();
  const faults: Record<FaultKind, { status: number; times: number }[]> = {
    token: [],
    scores: [],
    lineitems: [],
    memberships: [],
  };
  let origin = '';

  const sim: LtiServicesPlatform = {
    origin: '',
    issuer: '',
    tokenUrl: '',
    openidConfigurationUrl: '',
    tokenRequests: 0,
    tokenRefusals: [],
    calls: [],
    scoreRefusals: [],
    lineItems: (context) => items.get(context) ?? [],
    agsClaim(context, o = {}) {
      const list = items.get(context) ?? [];
      if (o.lineitem && list.length === 0) {
        list.push({
          id: `${origin}/contexts/${context}/lineitems/${randomUUID()}`,
          label: 'Lab',
          scoreMaximum: 100,
          scores: [],
        });
        items.set(context, list);
      }
      return {
        scope: o.scope ?? [AGS.lineItem, AGS.result, AGS.score],
        lineitems: `${origin}/contexts/${context}/lineitems`,
        ...(o.lineitem ? { lineitem: list[0].id } : {}),
      };
    },
    nrpsClaim: (context) => ({
      context_memberships_url: `${origin}/contexts/${context}/memberships`,
      service_versions: ['2.0'],
    }),
    setRoster: (context, members) => void rosters.set(context, members),
    failNext(kind, status, times = 1) {
      faults[kind].push({ status, times });
    },
    revokeTokens: () => tokens.clear(),
    registrations: [],
    registrationToken: randomBytes(12).toString('hex'),
    deepLinkReturns: [],
    deepLinkReturnUrl: '',
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const fault = (kind: FaultKind): number | null => {
    const f = faults[kind][0];
    if (!f) return null;
    if (--f.times <= 0) faults[kind].shift();
    return f.status;
  };

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    const type = headers['content-type'] ?? 'application/json';
    res.writeHead(status, { ...headers, 'content-type': type });
    res.end(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body));
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const f = fault('token');
    if (f) return send(res, f, { error: 'temporarily_unavailable' });
    const form = new URLSearchParams(await readBody(req));
    const refuse = (why: string) => {
      sim.tokenRefusals.push(why);
      send(res, 400, { error: 'invalid_client', error_description: why });
    };
    if (form.get('grant_type') !== 'client_credentials') return refuse('grant_type');
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      return refuse('client_assertion_type');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(form.get('client_assertion') ?? '', createLocalJWKSet(await options.toolJwks()), {
        issuer: options.clientId,
        subject: options.clientId,
        audience: sim.tokenUrl,
        algorithms: ['RS256', 'ES256'],
        requiredClaims: ['exp', 'iat', 'jti'],
      }));
    } catch (e) {
      return refuse(`assertion: ${(e as Error).message}`);
    }
    if (jtis.has(payload.jti as string)) return refuse('jti reused');
    jtis.add(payload.jti as string);
    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const known = new Set<string>([...Object.values(AGS), NRPS_SCOPE]);
    if (scopes.length === 0 || scopes.some((s) => !known.has(s))) return refuse('scope');
    const accessToken = randomBytes(16).toString('hex');
    const ttl = options.tokenTtlSeconds ?? 3600;
    tokens.set(accessToken, { scopes, expiresAt: Date.now() + ttl * 1000 });
    sim.tokenRequests++;
    send(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: ttl, scope: scopes.join(' ') });
  }

  /** The bearer token's scopes, or null after answering 401/403. */
  function authorize(req: IncomingMessage, res: ServerResponse, anyOf: string[]): boolean {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const t = m ? tokens.get(m[1]) : undefined;
    if (!t || t.expiresAt < Date.now()) {
      send(res, 401, { error: 'invalid_token' });
      return false;
    }
    if (!t.scopes.some((s) => anyOf.includes(s))) {
      send(res, 403, { error: 'insufficient_scope' });
      return false;
    }
    return true;
  }

  function validateScore(req: IncomingMessage, body: string, item: SimLineItem): string | null {
    if ((req.headers['content-type'] ?? '').split(';')[0].trim() !== MEDIA.score)
      return `Content-Type must be ${MEDIA.score}`;
    let s: Record<string, unknown>;
    try {
      s = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return 'body is not JSON';
    }
    if (typeof s.userId !== 'string' || !s.userId) return 'userId required';
    if (typeof s.timestamp !== 'string' || !ISO_MS.test(s.timestamp))
      return 'timestamp must be ISO 8601 with milliseconds and a zone';
    if (!['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed'].includes(s.activityProgress as string))
      return 'activityProgress';
    if (!['FullyGraded', 'Pending', 'PendingManual', 'Failed', 'NotReady'].includes(s.gradingProgress as string))
      return 'gradingProgress';
    if (s.scoreGiven !== undefined) {
      if (typeof s.scoreGiven !== 'number' || typeof s.scoreMaximum !== 'number')
        return 'scoreGiven needs scoreMaximum';
      if (s.scoreGiven < 0 || s.scoreGiven > s.scoreMaximum) return 'scoreGiven must be between 0 and scoreMaximum';
    }
    if (s.comment !== undefined && typeof s.comment !== 'string') return 'comment must be text';
    const last = item.scores.filter((x) => x.userId === s.userId).at(-1);
    if (options.rejectOlderScores !== false && last && (last.timestamp as string) > s.timestamp)
      return 'timestamp older than the last score';
    item.scores.push(s);
    return null;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const accept = req.headers.accept ?? '';
    if (path === '/token' && method === 'POST') return token(req, res);
    if (path === '/.well-known/openid-configuration') {
      return send(res, 200, {
        issuer: sim.issuer,
        authorization_endpoint: `${origin}/auth`,
        token_endpoint: sim.tokenUrl,
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['RS256'],
        jwks_uri: `${origin}/jwks`,
        registration_endpoint: `${origin}/register`,
        scopes_supported: ['openid', ...Object.values(AGS), NRPS_SCOPE],
        response_types_supported: ['id_token'],
        subject_types_supported: ['public', 'pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        claims_supported: ['sub', 'iss', 'name', 'given_name', 'family_name', 'email'],
        'https://purl.imsglobal.org/spec/lti-platform-configuration': {
          product_family_code: 'simulator',
          version: '1.0',
          messages_supported: [{ type: 'LtiResourceLinkRequest' }, { type: 'LtiDeepLinkingRequest' }],
        },
      });
    }
    if (path === '/register' && method === 'POST') {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      const body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      sim.registrations.push({ token: m?.[1] ?? null, body });
      if (m?.[1] !== sim.registrationToken) return send(res, 401, { error: 'invalid_token' });
      const conf = body['https://purl.imsglobal.org/spec/lti-tool-configuration'] as
        Record<string, unknown> | undefined;
      const missing = [
        'application_type',
        'grant_types',
        'response_types',
        'initiate_login_uri',
        'redirect_uris',
        'jwks_uri',
        'token_endpoint_auth_method',
        'scope',
      ].filter((k) => body[k] === undefined);
      if (missing.length || !conf) return send(res, 400, { error: 'invalid_client_metadata', missing });
      return send(res, 200, {
        ...body,
        client_id: options.clientId,
        'https://purl.imsglobal.org/spec/lti-tool-configuration': { ...conf, deployment_id: 'deployment-dynamic' },
      });
    }
    if (path === '/deep-link-return' && method === 'POST') {
      sim.deepLinkReturns.push(Object.fromEntries(new URLSearchParams(await readBody(req))));
      return send(res, 200, '<html><body>Thanks</body></html>', { 'content-type': 'text/html' });
    }
    const m = /^\/contexts\/([^/]+)\/(lineitems|memberships)(?:\/([^/]+))?(?:\/(scores|results))?$/.exec(path);
    if (!m) return send(res, 404, { error: 'not_found' });
    const [, context, service, itemId, sub] = m;
    const record = (status: number): void => {
      sim.calls.push({ method, path, status });
    };
    if (service === 'memberships') {
      if (!authorize(req, res, [NRPS_SCOPE])) return record(res.statusCode);
      const f = fault('memberships');
      if (f) return (record(f), send(res, f, { error: 'fault' }));
      if (!accept.includes(MEDIA.memberships)) return (record(406), send(res, 406, { error: 'Accept' }));
      let members = rosters.get(context) ?? [];
      const role = url.searchParams.get('role');
      if (role) members = members.filter((x) => x.roles.some((r) => r === role || r.endsWith(`#${role}`)));
      const rlid = url.searchParams.get('rlid');
      if (rlid) members = members.filter((x) => !x.links || x.links.includes(rlid));
      const limit = Math.min(Number(url.searchParams.get('limit') ?? Infinity), options.pageSize ?? 100);
      const from = Number(url.searchParams.get('from') ?? 0);
      const page = members.slice(from, from + limit);
      const headers: Record<string, string> = { 'content-type': MEDIA.memberships };
      if (from + limit < members.length) {
        const next = new URL(url);
        next.searchParams.set('from', String(from + limit));
        next.searchParams.set('limit', String(limit));
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      record(200);
      return send(
        res,
        200,
        {
          id: url.toString(),
          context: { id: context, label: context, title: `Course ${context}` },
          members: page.map(({ links: _links, ...x }) => ({ status: 'Active', ...x })),
        },
        headers,
      );
    }
    const list = items.get(context) ?? [];
    items.set(context, list);
    const itemUrl = (id: string) => `${origin}/contexts/${context}/lineitems/${id}`;
    const view = ({ scores: _s, ...i }: SimLineItem) => i;
    if (!itemId) {
      if (method === 'GET') {
        if (!authorize(req, res, [AGS.lineItem, AGS.lineItemReadonly])) return record(res.statusCode);
        if (!accept.includes(MEDIA.lineItems)) return (record(406), send(res, 406, { error: 'Accept' }));
        const rl = url.searchParams.get('resource_link_id');
        const tag = url.searchParams.get('tag');
        record(200);
        return send(
          res,
          200,
          list.filter((i) => (!rl || i.resourceLinkId === rl) && (!tag || i.tag === tag)).map(view),
          { 'content-type': MEDIA.lineItems },
        );
      }
      if (method === 'POST') {
        if (!authorize(req, res, [AGS.lineItem])) return record(res.statusCode);
        if ((req.headers['content-type'] ?? '').split(';')[0] !== MEDIA.lineItem)
          return (record(415), send(res, 415, {}));
        const body = JSON.parse(await readBody(req)) as Omit<SimLineItem, 'id' | 'scores'>;
        if (typeof body.label !== 'string' || typeof body.scoreMaximum !== 'number' || body.scoreMaximum <= 0)
          return (record(400), send(res, 400, { error: 'label and a positive scoreMaximum are required' }));
        const item: SimLineItem = { ...body, id: itemUrl(randomUUID()), scores: [] };
        list.push(item);
        record(201);
        return send(res, 201, view(item), { 'content-type': MEDIA.lineItem });
      }
      return send(res, 405, {});
    }
    const item = list.find((i) => i.id === itemUrl(itemId));
    if (!item) return (record(404), send(res, 404, { error: 'no such line item' }));
    if (sub === 'scores') {
      if (method !== 'POST') return send(res, 405, {});
      if (!authorize(req, res, [AGS.score])) return record(res.statusCode);
      const f = fault('scores');
      if (f) {
        await readBody(req);
        record(f);
        return send(res, f, { error: `simulated ${f}` });
      }
      const problem = validateScore(req, await readBody(req), item);
      if (problem) {
        sim.scoreRefusals.push(problem);
        record(400);
        return send(res, 400, { error: problem });
      }
      record(200);
      return send(res, 200, {});
    }
    if (sub === 'results') {
      if (!authorize(req, res, [AGS.result])) return record(res.statusCode);
      if (!accept.includes(MEDIA.results)) return (record(406), send(res, 406, { error: 'Accept' }));
      const latest = new Map<string, Record<string, unknown>>();
      for (const s of item.scores) latest.set(s.userId as string, s);
      record(200);
      return send(
        res,
        200,
        [...latest.values()].map((s) => ({
          id: `${item.id}/results/${String(s.userId)}`,
          scoreOf: item.id,
          userId: s.userId,
          resultScore: s.scoreGiven ?? null,
          resultMaximum: s.scoreMaximum ?? null,
          comment: s.comment ?? null,
        })),
        { 'content-type': MEDIA.results },
      );
    }
    if (method === 'GET') {
      if (!authorize(req, res, [AGS.lineItem, AGS.lineItemReadonly])) return record(res.statusCode);
      record(200);
      return send(res, 200, view(item), { 'content-type': MEDIA.lineItem });
    }
    if (!authorize(req, res, [AGS.lineItem])) return record(res.statusCode);
    if (method === 'PUT') {
      const body = JSON.parse(await readBody(req)) as Partial<SimLineItem>;
      Object.assign(item, {
        label: body.label ?? item.label,
        scoreMaximum: body.scoreMaximum ?? item.scoreMaximum,
        tag: body.tag ?? item.tag,
      });
      record(200);
      return send(res, 200, view(item), { 'content-type': MEDIA.lineItem });
    }
    if (method === 'DELETE') {
      list.splice(list.indexOf(item), 1);
      record(204);
      res.writeHead(204);
      return void res.end();
    }
    send(res, 405, {});
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  origin = `http://${host}:${port}`;
  Object.assign(sim, {
    origin,
    issuer: origin,
    tokenUrl: `${origin}/token`,
    openidConfigurationUrl: `${origin}/.well-known/openid-configuration`,
    deepLinkReturnUrl: `${origin}/deep-link-return`,
  });
  return sim;
}
