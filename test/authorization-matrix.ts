/**
 * The authorization matrix: for every route of the application, the HTTP status each caller gets.
 * 178 routes × 12 callers = 2136 cells (CELL_COUNT, checked by the runner). The runner,
 * test/e2e/authorization-matrix.e2e-spec.ts, sends every cell over HTTP to the real application and
 * fails when a route of the application is missing here or a route here does not exist.
 *
 * The rules the expectations follow (ARCHITECTURE.md, src/permissions/README.md, roles.ts):
 * deny by default; anonymous on a protected route is 401; an object the caller may not see is 404;
 * one it sees but may not act on is 403; a list or create route the caller has no right for at all
 * is 403; public routes answer the same to everyone. Bodies are valid, so a status is the answer
 * to "may this caller do this", except where a comment says otherwise.
 *
 * A cell whose real answer breaks those rules holds the CORRECT status, is marked `// BUG:`, and
 * is listed in KNOWN_ISSUES with the status it really gets; the runner reports those and fails once
 * one of them answers differently (fixed: remove it from the list).
 *
 * Columns (CALLERS in test/utils/authorization-scene.ts):
 *   anon   no Authorization header
 *   staf   is_staff
 *   supp   is_support
 *   oAdm   organization_admin of the object's organization
 *   xAdm   organization_admin of another organization
 *   pm     project_manager of the object's project
 *   pc     project_contributor of the object's project
 *   pmem   project_member of the object's project
 *   xPm    project_manager of another project of the same organization
 *   exPm   project_manager of the object's project, membership expired
 *   svc    service account of the organization, organization_admin through a group membership
 *   none   user of the organization without any membership
 */
import { unique } from './factories/accounts';
import { day } from './utils/course-accounts';
import { CALLERS, CallerName, Scene } from './utils/authorization-scene';
import { ltiServicesObjects } from './utils/lti-services-scene';

export const CELL_COUNT = 2136;

export interface MatrixRequest {
  /** The concrete path; it must match the route's pattern. */
  path: string;
  query?: Record<string, string>;
  /** A JSON body. */
  body?: object;
  /** An application/x-www-form-urlencoded body. */
  form?: Record<string, string>;
  /** A multipart/form-data body with one file part. */
  file?: { field: string; name: string; content: string };
  /** Headers besides the caller's Authorization (the browser session routes' Origin, marker and cookie). */
  headers?: Record<string, string>;
}

export interface MatrixRoute {
  /** `METHOD /path/:param` as Nest registers it (`ALL` for an @All() route, called with GET). */
  route: string;
  /**
   * The route changes what it acts on: every cell gets a scene of its own (its own organization,
   * project, object and caller), so cells never see each other's changes and run in any order.
   * Read-only routes share one scene.
   */
  fresh?: boolean;
  request: (scene: Scene) => MatrixRequest | Promise<MatrixRequest>;
  expect: Record<CallerName, number>;
}

export interface KnownIssue {
  route: string;
  caller: CallerName;
  /** What the application answers today (the table holds what it should answer). */
  actual: number;
  why: string;
}

/** One row of statuses, in the order of CALLERS (see the column legend above). */
function row(...statuses: number[]): Record<CallerName, number> {
  if (statuses.length !== CALLERS.length)
    throw new Error(`a row needs ${CALLERS.length} statuses, got ${statuses.length}`);
  return Object.fromEntries(CALLERS.map((caller, i) => [caller, statuses[i]])) as Record<CallerName, number>;
}

const everyone = (status: number) => row(...CALLERS.map(() => status));
const signedIn = (status: number) => row(401, ...CALLERS.slice(1).map(() => status));

/** A request with no body or query. */
const at = (path: string): MatrixRequest => ({ path });

export const MATRIX: MatrixRoute[] = [
  // ─── Public: no permission, so who asks makes no difference (but see the token endpoint) ────
  { route: 'GET /health/live', request: () => at('/health/live'), expect: everyone(200) },
  { route: 'GET /health/ready', request: () => at('/health/ready'), expect: everyone(200) },
  { route: 'GET /metrics', request: () => at('/metrics'), expect: everyone(200) },
  { route: 'GET /docs', request: () => at('/docs'), expect: everyone(200) },
  { route: 'GET /docs/', request: () => at('/docs/'), expect: everyone(200) },
  { route: 'GET /docs/index.html', request: () => at('/docs/index.html'), expect: everyone(200) },
  { route: 'GET /docs/swagger-ui-init.js', request: () => at('/docs/swagger-ui-init.js'), expect: everyone(200) },
  {
    route: 'GET /docs/docs/swagger-ui-init.js',
    request: () => at('/docs/docs/swagger-ui-init.js'),
    expect: everyone(200),
  },
  // @nestjs/swagger mounts this route only to hide swagger-ui's LICENSE file: 404 for everyone.
  { route: 'GET /docs/LICENSE', request: () => at('/docs/LICENSE'), expect: everyone(404) },
  { route: 'GET /openapi.json', request: () => at('/openapi.json'), expect: everyone(200) },
  { route: 'GET /docs-yaml', request: () => at('/docs-yaml'), expect: everyone(200) },
  { route: 'GET /.well-known/jwks.json', request: () => at('/.well-known/jwks.json'), expect: everyone(200) },
  {
    route: 'GET /.well-known/oauth-authorization-server',
    request: () => at('/.well-known/oauth-authorization-server'),
    expect: everyone(200),
  },
  {
    // Only the issuer's own path answers (RFC 8414 §3.1); the matrix's issuer has none, so 404 for everyone.
    route: 'GET /.well-known/oauth-authorization-server/*path',
    request: () => at('/.well-known/oauth-authorization-server/campus'),
    expect: everyone(404),
  },
  {
    // A user with a password (the only Argon2 hash of the run); the caller's bearer token plays no part.
    route: 'POST /api/v1/auth/login',
    request: (s) => ({ path: '/api/v1/auth/login', body: s.loginCredentials() }),
    expect: everyone(200),
  },
  {
    route: 'POST /api/v1/auth/refresh',
    fresh: true, // rotates the token
    request: async (s) => ({ path: '/api/v1/auth/refresh', body: { refresh_token: await s.refreshToken() } }),
    expect: everyone(200),
  },
  {
    route: 'POST /api/v1/auth/logout',
    fresh: true,
    request: async (s) => ({ path: '/api/v1/auth/logout', body: { refresh_token: await s.refreshToken() } }),
    expect: everyone(204),
  },
  {
    // The browser session routes (the console's sign-in): public, behind their CSRF check, which
    // the console's headers pass; the caller's bearer token plays no part.
    route: 'POST /api/v1/auth/session/login',
    request: (s) => ({
      path: '/api/v1/auth/session/login',
      body: s.loginCredentials(),
      headers: s.browserSessionHeaders(),
    }),
    expect: everyone(200),
  },
  {
    route: 'POST /api/v1/auth/session/refresh',
    fresh: true, // rotates the token
    request: async (s) => ({
      path: '/api/v1/auth/session/refresh',
      headers: s.browserSessionHeaders(await s.refreshToken()),
    }),
    expect: everyone(200),
  },
  {
    route: 'POST /api/v1/auth/session/logout',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/auth/session/logout',
      headers: s.browserSessionHeaders(await s.refreshToken()),
    }),
    expect: everyone(204),
  },
  {
    // The token endpoint reads the Authorization header as the client's authentication (RFC 6749
    // §2.3.1, HTTP Basic only): a caller sending its bearer token there is 400 invalid_request, by
    // design. Anonymous authenticates in the body (client_secret_post) and gets its token.
    route: 'POST /oauth/token',
    request: (s) => ({ path: '/oauth/token', form: s.clientCredentialsForm() }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(200, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400),
  },
  {
    route: 'POST /token',
    request: (s) => ({ path: '/token', form: s.clientCredentialsForm() }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(200, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400),
  },
  {
    // As at the token endpoint, a bearer token in the Authorization header is not client authentication
    // (400 invalid_request). Anonymous is the first-party public client revoking the user's session.
    route: 'POST /oauth/revoke',
    fresh: true,
    request: async (s) => ({ path: '/oauth/revoke', form: { token: await s.refreshToken() } }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(200, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400),
  },
  {
    // Client-authenticated in the request; the scene's client is not allowed the introspection scope
    // (403 unauthorized_client). Callers sending a bearer token are 400 invalid_request, as above.
    route: 'POST /oauth/introspect',
    request: (s) => ({ path: '/oauth/introspect', form: { ...s.clientCredentialsForm(), token: 'x' } }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(403, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400),
  },
  { route: 'ALL /oauth/token', request: () => at('/oauth/token'), expect: everyone(405) },
  { route: 'ALL /token', request: () => at('/token'), expect: everyone(405) },
  { route: 'ALL /oauth/revoke', request: () => at('/oauth/revoke'), expect: everyone(405) },
  { route: 'ALL /oauth/introspect', request: () => at('/oauth/introspect'), expect: everyone(405) },

  // ─── The caller itself ──────────────────────────────────────────────────────────────────────
  { route: 'GET /api/v1/auth/me', request: () => at('/api/v1/auth/me'), expect: signedIn(200) },
  {
    // Every user may change its own password; the callers' accounts have none to prove, so a user's
    // answer is 400 wrong_current_password (the route is theirs, the password is wrong). Service
    // accounts have no password here.
    route: 'POST /api/v1/auth/password',
    request: () => ({
      path: '/api/v1/auth/password',
      body: { current_password: 'not the password', new_password: 'a long new password' },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 400, 400, 400, 400, 400, 400, 400, 400, 400, 403, 400),
  },
  {
    // Staff only: an organization admin's `manage all` stops at its organization.
    route: 'POST /api/v1/auth/dashboard-session',
    request: () => at('/api/v1/auth/dashboard-session'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
  },
  { route: 'GET /api/v1/roles', request: () => at('/api/v1/roles'), expect: signedIn(200) },
  {
    route: 'GET /api/v1/permissions',
    request: async (s) => ({
      path: '/api/v1/permissions',
      query: { object_type: 'Project', object_id: (await s.project()).id },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 200, 200, 200, 404, 404, 200, 404),
  },
  {
    // Only activation tokens (new-user-credentials grant) may use it: every other token is 403 insufficient_scope.
    route: 'POST /api/v1/accounts/activate',
    request: () => ({
      path: '/api/v1/accounts/activate',
      body: { password: 'a-long-enough-password', accept_terms: true },
    }),
    expect: signedIn(403),
  },

  // ─── Organizations ──────────────────────────────────────────────────────────────────────────
  {
    route: 'GET /api/v1/organizations',
    request: () => at('/api/v1/organizations'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 200, 403, 403, 403, 403, 403, 200, 403),
  },
  {
    route: 'GET /api/v1/organizations/:id',
    request: async (s) => at(`/api/v1/organizations/${(await s.org()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/organizations',
    fresh: true,
    request: () => ({ path: '/api/v1/organizations', body: { key: unique('org'), name: 'New organization' } }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
  },
  {
    route: 'PATCH /api/v1/organizations/:id',
    fresh: true,
    request: async (s) => ({
      path: `/api/v1/organizations/${(await s.org()).id}`,
      body: { name: 'Renamed organization' },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    // Staff only: deleting an organization ends every member's access, so its admins (and the
    // service account holding organization_admin) may rename it but not delete it.
    route: 'DELETE /api/v1/organizations/:id',
    fresh: true,
    request: async (s) => at(`/api/v1/organizations/${(await s.org()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 403, 404, 404, 404, 404, 404, 404, 403, 404),
  },

  // ─── Projects ───────────────────────────────────────────────────────────────────────────────
  {
    route: 'GET /api/v1/projects',
    request: () => at('/api/v1/projects'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 403),
  },
  {
    route: 'GET /api/v1/projects/:id',
    request: async (s) => at(`/api/v1/projects/${(await s.project()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 200, 200, 200, 404, 404, 200, 404),
  },
  {
    // The roster with names: its managers and contributors, organization admins, staff and support;
    // a learner reads the project but not its roster (403).
    route: 'GET /api/v1/projects/:id/members',
    request: async (s) => at(`/api/v1/projects/${(await s.project()).id}/members`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 200, 200, 403, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/projects',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/projects',
      body: {
        organization: (await s.org()).id,
        key: unique('prj'),
        name: 'New course',
        kind: 'course',
        start_date: day(0),
        end_date: day(60),
      },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 403, 403, 403, 403, 403, 201, 403),
  },
  {
    route: 'PATCH /api/v1/projects/:id',
    fresh: true,
    request: async (s) => ({ path: `/api/v1/projects/${(await s.project()).id}`, body: { name: 'Renamed course' } }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 200, 403, 403, 404, 404, 200, 404),
  },
  {
    route: 'DELETE /api/v1/projects/:id',
    fresh: true,
    request: async (s) => at(`/api/v1/projects/${(await s.project()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 204, 404, 403, 403, 403, 404, 404, 204, 404),
  },

  // ─── Users ──────────────────────────────────────────────────────────────────────────────────
  // Every user reads its own row, so the list answers everyone who is signed in (scoped in SQL).
  { route: 'GET /api/v1/users', request: () => at('/api/v1/users'), expect: signedIn(200) },
  {
    route: 'GET /api/v1/users/:id',
    request: async (s) => at(`/api/v1/users/${(await s.user()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/users',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/users',
      body: { username: unique('new-user'), email: `${unique('new')}@example.edu`, organization: (await s.org()).id },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 403, 403, 403, 403, 403, 201, 403),
  },
  {
    route: 'PATCH /api/v1/users/:id',
    fresh: true,
    request: async (s) => ({ path: `/api/v1/users/${(await s.user()).id}`, body: { first_name: 'Renamed' } }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },

  // ─── Service accounts ───────────────────────────────────────────────────────────────────────
  {
    route: 'GET /api/v1/service-accounts',
    request: () => at('/api/v1/service-accounts'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 200, 403, 403, 403, 403, 403, 200, 403),
  },
  {
    route: 'GET /api/v1/service-accounts/:id',
    request: async (s) => at(`/api/v1/service-accounts/${(await s.serviceAccount()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/service-accounts',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/service-accounts',
      body: { organization: (await s.org()).id, name: 'New client' },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 403, 403, 403, 403, 403, 201, 403),
  },
  {
    route: 'PATCH /api/v1/service-accounts/:id',
    fresh: true,
    request: async (s) => ({
      path: `/api/v1/service-accounts/${(await s.serviceAccount()).id}`,
      body: { name: 'Renamed client' },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/service-accounts/:id/rotate-secret',
    fresh: true,
    request: async (s) => at(`/api/v1/service-accounts/${(await s.serviceAccount()).id}/rotate-secret`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/service-accounts/:id/revoke-tokens',
    fresh: true,
    request: async (s) => at(`/api/v1/service-accounts/${(await s.serviceAccount()).id}/revoke-tokens`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/service-accounts/:id/deactivate',
    fresh: true,
    request: async (s) => at(`/api/v1/service-accounts/${(await s.serviceAccount()).id}/deactivate`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },

  // ─── Activation records and the audit log ───────────────────────────────────────────────────
  {
    route: 'POST /api/v1/activation-records',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/activation-records',
      body: {
        organization: (await s.org()).id,
        records: [{ crsid: unique('ab').replace('-', ''), last_name: 'Smith', date_of_birth: '1999-04-01' }],
      },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 403, 403, 403, 403, 403, 201, 403),
  },
  {
    route: 'GET /api/v1/audit-events',
    request: () => at('/api/v1/audit-events'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 200, 403, 403, 403, 403, 403, 200, 403),
  },

  // ─── Jobs (the job belongs to a user of the organization who is none of the callers) ────────
  // Everyone reads its own jobs, so the list answers everyone who is signed in (scoped in SQL).
  { route: 'GET /api/v1/jobs', request: () => at('/api/v1/jobs'), expect: signedIn(200) },
  {
    route: 'GET /api/v1/jobs/:id',
    request: async (s) => at(`/api/v1/jobs/${(await s.job()).id}`),
    // A job is its owner's (and staff's; support reads): organization roles do not reach it.
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 404, 404, 404, 404, 404, 404, 404, 404, 404),
  },
  {
    route: 'POST /api/v1/jobs/:id/cancel',
    fresh: true,
    request: async (s) => at(`/api/v1/jobs/${(await s.job()).id}/cancel`),
    // A job is its owner's (and staff's; support reads): organization roles do not reach it.
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 404, 404, 404, 404, 404, 404, 404, 404, 404),
  },
  {
    route: 'GET /api/v1/jobs/:id/artifacts/:name',
    request: async (s) => {
      const job = await s.job();
      return at(`/api/v1/jobs/${job.id}/artifacts/${job.artifact}`);
    },
    // A job is its owner's (and staff's; support reads): organization roles do not reach it.
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 404, 404, 404, 404, 404, 404, 404, 404, 404),
  },
  {
    route: 'POST /api/v1/organizations/:id/users/export',
    fresh: true,
    request: async (s) => at(`/api/v1/organizations/${(await s.org()).id}/users/export`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 202, 403, 202, 404, 404, 404, 404, 404, 404, 202, 404),
  },

  // ─── Course accounts ────────────────────────────────────────────────────────────────────────
  {
    route: 'GET /api/v1/course-accounts',
    request: () => at('/api/v1/course-accounts'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 403),
  },
  {
    route: 'POST /api/v1/course-accounts',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/course-accounts',
      body: { project: (await s.project()).id, email: `${unique('student')}@example.edu` },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 201, 201, 403, 404, 403, 201, 403),
  },
  {
    route: 'POST /api/v1/course-accounts/bulk',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/course-accounts/bulk',
      body: { project: (await s.project()).id, course_accounts: [{ email: `${unique('student')}@example.edu` }] },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 202, 403, 202, 404, 202, 202, 403, 404, 403, 202, 403),
  },
  {
    // Staff only (documented): holders of `close CourseAccount` pass the guard and the service refuses them.
    route: 'POST /api/v1/course-accounts/close-expired',
    request: () => at('/api/v1/course-accounts/close-expired'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 202, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
  },
  {
    // Staff only (documented); limited to the cell's own project so that it touches nothing else.
    route: 'POST /api/v1/course-accounts/reconcile',
    fresh: true,
    request: async (s) => ({ path: '/api/v1/course-accounts/reconcile', query: { project: (await s.project()).id } }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 202, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
  },
  {
    route: 'GET /api/v1/course-accounts/:id',
    request: async (s) => at(`/api/v1/course-accounts/${(await s.courseAccount()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 200, 200, 200, 404, 404, 200, 404),
  },
  {
    route: 'DELETE /api/v1/course-accounts/:id',
    fresh: true,
    request: async (s) => at(`/api/v1/course-accounts/${(await s.courseAccount()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 204, 404, 204, 403, 403, 404, 404, 204, 404),
  },
  {
    route: 'POST /api/v1/course-accounts/:id/retry',
    fresh: true,
    request: async (s) => at(`/api/v1/course-accounts/${(await s.erredCourseAccount()).id}/retry`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 202, 403, 202, 404, 202, 202, 403, 404, 404, 202, 404),
  },
  {
    // Staff only (documented): holders of `update CourseAccount` pass the guard and the service refuses them.
    route: 'POST /api/v1/course-accounts/:id/set-ok',
    fresh: true,
    request: async (s) => ({
      path: `/api/v1/course-accounts/${(await s.erredCourseAccount()).id}/set-ok`,
      body: { reason: 'fixed upstream' },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 403, 404, 403, 403, 403, 404, 404, 403, 404),
  },

  // ─── Groups and memberships (the group is a project_member group of the object's project) ───
  {
    route: 'GET /api/v1/groups',
    request: () => at('/api/v1/groups'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 403),
  },
  {
    // A scope the caller cannot see is 400 unknown_scope, the same as one that does not exist
    // (documented in src/permissions/README.md): the scope is a body field, not the route's object.
    route: 'POST /api/v1/groups',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/groups',
      body: { name: unique('group'), scope_type: 'project', scope_id: (await s.project()).id, role: 'project_member' },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 400, 201, 403, 403, 400, 403, 201, 403),
  },
  {
    route: 'GET /api/v1/groups/:id',
    request: async (s) => at(`/api/v1/groups/${(await s.group()).groupId}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 200, 200, 200, 404, 404, 200, 404),
  },
  {
    route: 'PATCH /api/v1/groups/:id',
    fresh: true,
    request: async (s) => ({ path: `/api/v1/groups/${(await s.group()).groupId}`, body: { name: unique('renamed') } }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 200, 403, 403, 404, 404, 200, 404),
  },
  {
    route: 'DELETE /api/v1/groups/:id',
    fresh: true,
    request: async (s) => at(`/api/v1/groups/${(await s.group()).groupId}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 204, 404, 204, 403, 403, 404, 404, 204, 404),
  },
  {
    route: 'GET /api/v1/groups/:id/members',
    request: async (s) => at(`/api/v1/groups/${(await s.group()).groupId}/members`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 200, 200, 200, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/groups/:id/members',
    fresh: true,
    request: async (s) => ({
      path: `/api/v1/groups/${(await s.group()).groupId}/members`,
      body: { principal_type: 'user', principal_id: (await s.secondUser()).id },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 201, 403, 403, 404, 404, 201, 404),
  },
  {
    route: 'PATCH /api/v1/groups/:id/members/:principalType/:principalId',
    fresh: true,
    request: async (s) => {
      const g = await s.group();
      return {
        path: `/api/v1/groups/${g.groupId}/members/${g.memberType}/${g.memberId}`,
        body: { expires_at: new Date(Date.now() + 86_400_000).toISOString() },
      };
    },
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 200, 403, 403, 404, 404, 200, 404),
  },
  {
    route: 'DELETE /api/v1/groups/:id/members/:principalType/:principalId',
    fresh: true,
    request: async (s) => {
      const g = await s.group();
      return at(`/api/v1/groups/${g.groupId}/members/${g.memberType}/${g.memberId}`);
    },
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 204, 404, 204, 403, 403, 404, 404, 204, 404),
  },

  // ─── Programs (native API; the program belongs to the object's organization) ─────────────────
  {
    route: 'GET /api/v1/programs',
    request: () => at('/api/v1/programs'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 200, 403, 403, 403, 403, 403, 200, 403),
  },
  {
    route: 'POST /api/v1/programs',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/programs',
      body: { organization: (await s.org()).id, key: unique('masters'), title: 'New program' },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 403, 403, 403, 403, 403, 201, 403),
  },
  {
    route: 'POST /api/v1/programs/import',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/programs/import',
      query: { organization: (await s.org()).id },
      body: [{ key: unique('imported'), title: 'Imported program' }],
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 403, 403, 403, 403, 403, 200, 403),
  },
  {
    route: 'GET /api/v1/programs/:id',
    request: async (s) => at(`/api/v1/programs/${(await s.program()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'PATCH /api/v1/programs/:id',
    fresh: true,
    request: async (s) => ({ path: `/api/v1/programs/${(await s.program()).id}`, body: { title: 'Renamed' } }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'DELETE /api/v1/programs/:id',
    fresh: true,
    request: async (s) => at(`/api/v1/programs/${(await s.emptyProgram()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 204, 404, 404, 404, 404, 404, 404, 204, 404),
  },
  {
    route: 'GET /api/v1/programs/:id/courses',
    request: async (s) => at(`/api/v1/programs/${(await s.program()).id}/courses`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/programs/:id/courses',
    fresh: true,
    request: async (s) => ({
      path: `/api/v1/programs/${(await s.program()).id}/courses`,
      body: { course_id: `course-v1:NewX+${unique('c')}+Fall`, title: 'New course' },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 404, 404, 404, 404, 404, 201, 404),
  },
  {
    route: 'PATCH /api/v1/programs/:id/courses/:courseId',
    fresh: true,
    request: async (s) => {
      const p = await s.program();
      return { path: `/api/v1/programs/${p.id}/courses/${p.courseRowId}`, body: { title: 'Renamed course' } };
    },
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'DELETE /api/v1/programs/:id/courses/:courseId',
    fresh: true,
    request: async (s) => {
      const p = await s.emptyProgram();
      return at(`/api/v1/programs/${p.id}/courses/${p.courseRowId}`);
    },
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 204, 404, 404, 404, 404, 404, 404, 204, 404),
  },
  {
    route: 'POST /api/v1/programs/:id/reports',
    fresh: true,
    request: async (s) => ({
      path: `/api/v1/programs/${(await s.program()).id}/reports`,
      body: { name: 'aggregate_report__2026-01-01', content: 'data' },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 404, 404, 404, 404, 404, 201, 404),
  },
  ...registrarRows(),
  // ─── LTI 1.3 tool: browser endpoints and keyset are public; registration is organization admins' ───
  { route: 'GET /lti/jwks.json', request: () => at('/lti/jwks.json'), expect: everyone(200) },
  {
    // A valid third-party login for the scene's platform: a redirect to the platform, whoever asks.
    route: 'GET /lti/login',
    request: async (s) => ({ path: '/lti/login', query: await s.ltiLoginParams() }),
    expect: everyone(302),
  },
  {
    route: 'POST /lti/login',
    request: async (s) => ({ path: '/lti/login', form: await s.ltiLoginParams() }),
    expect: everyone(302),
  },
  {
    // A launch needs a platform's signed id_token; without one every caller gets the 400 page
    // (missing_id_token): the caller's bearer token plays no part.
    route: 'POST /lti/launch',
    request: () => ({ path: '/lti/launch', form: { state: 'no-such-state' } }),
    expect: everyone(400),
  },
  { route: 'GET /lti/app', request: () => at('/lti/app'), expect: everyone(200) },
  // The web console's pages and files: public (the pages call the API with the signed-in user's token).
  { route: 'GET /console', request: () => at('/console'), expect: everyone(200) },
  { route: 'GET /console/*path', request: () => at('/console/organizations'), expect: everyone(200) },
  {
    // The launch id is the credential: an unknown one is 404 for everyone.
    route: 'POST /api/v1/lti/launches/:launchId/exchange',
    request: () => at('/api/v1/lti/launches/00000000-0000-4000-8000-000000000000/exchange'),
    expect: everyone(404),
  },
  {
    route: 'GET /api/v1/lti/platforms',
    request: () => at('/api/v1/lti/platforms'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 200, 403, 403, 403, 403, 403, 200, 403),
  },
  {
    route: 'POST /api/v1/lti/platforms',
    fresh: true,
    request: async (s) => ({ path: '/api/v1/lti/platforms', body: s.ltiPlatformBody((await s.org()).id) }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 403, 403, 403, 403, 403, 201, 403),
  },
  {
    route: 'GET /api/v1/lti/platforms/:id',
    request: async (s) => at(`/api/v1/lti/platforms/${(await s.ltiPlatform()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    // Who reads the platform reads its launches.
    route: 'GET /api/v1/lti/platforms/:id/launches',
    request: async (s) => at(`/api/v1/lti/platforms/${(await s.ltiPlatform()).id}/launches`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'PATCH /api/v1/lti/platforms/:id',
    fresh: true,
    request: async (s) => ({
      path: `/api/v1/lti/platforms/${(await s.ltiPlatform()).id}`,
      body: { name: 'Renamed LMS' },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'DELETE /api/v1/lti/platforms/:id',
    fresh: true,
    request: async (s) => at(`/api/v1/lti/platforms/${(await s.ltiPlatform()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 204, 404, 404, 404, 404, 404, 404, 204, 404),
  },

  // ─── Participant e-mails ─────────────────────────────────────────────────────────────────────
  {
    // Who reads the account reads its e-mails.
    route: 'GET /api/v1/course-accounts/:id/emails',
    request: async (s) => at(`/api/v1/course-accounts/${(await s.courseAccount()).id}/emails`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 200, 200, 200, 404, 404, 200, 404),
  },
  {
    route: 'GET /api/v1/organizations/:id/mail-templates',
    request: async (s) => at(`/api/v1/organizations/${(await s.org()).id}/mail-templates`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'PUT /api/v1/organizations/:id/mail-templates/:kind',
    fresh: true,
    request: async (s) => ({
      path: `/api/v1/organizations/${(await s.org()).id}/mail-templates/welcome`,
      body: { subject: 'Welcome to {{course}}', text: 'Hello {{username}}', html: '<p>Hello {{username}}</p>' },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 204, 404, 404, 404, 404, 404, 404, 204, 404),
  },
  {
    route: 'DELETE /api/v1/organizations/:id/mail-templates/:kind',
    fresh: true,
    request: async (s) => at(`/api/v1/organizations/${(await s.org()).id}/mail-templates/welcome`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 204, 404, 404, 404, 404, 404, 404, 204, 404),
  },

  // ─── Webhooks (organization admins of the subscription's organization, or staff; support reads) ───
  {
    route: 'GET /api/v1/webhooks',
    request: () => at('/api/v1/webhooks'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 200, 403, 403, 403, 403, 403, 200, 403),
  },
  {
    route: 'POST /api/v1/webhooks',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/webhooks',
      body: { organization: (await s.org()).id, url: 'https://agent.example.invalid/hook', event_types: ['project.*'] },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 403, 403, 403, 403, 403, 201, 403),
  },
  {
    route: 'GET /api/v1/webhooks/:id',
    request: async (s) => at(`/api/v1/webhooks/${(await s.webhook()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'PATCH /api/v1/webhooks/:id',
    fresh: true,
    request: async (s) => ({ path: `/api/v1/webhooks/${(await s.webhook()).id}`, body: { description: 'changed' } }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'DELETE /api/v1/webhooks/:id',
    fresh: true,
    request: async (s) => at(`/api/v1/webhooks/${(await s.webhook()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 204, 404, 404, 404, 404, 404, 404, 204, 404),
  },
  {
    route: 'POST /api/v1/webhooks/:id/rotate-secret',
    fresh: true,
    request: async (s) => at(`/api/v1/webhooks/${(await s.webhook()).id}/rotate-secret`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'GET /api/v1/webhooks/:id/deliveries',
    request: async (s) => at(`/api/v1/webhooks/${(await s.webhook()).id}/deliveries`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/webhooks/:id/deliveries/:deliveryId/redeliver',
    fresh: true,
    request: async (s) => {
      const d = await s.webhookDelivery();
      return at(`/api/v1/webhooks/${d.webhookId}/deliveries/${d.id}/redeliver`);
    },
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 202, 403, 202, 404, 404, 404, 404, 404, 404, 202, 404),
  },
  {
    route: 'POST /api/v1/webhooks/:id/ping',
    fresh: true,
    request: async (s) => at(`/api/v1/webhooks/${(await s.webhook()).id}/ping`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 202, 403, 202, 404, 404, 404, 404, 404, 404, 202, 404),
  },
  // ─── LTI Advantage: grades (project managers and contributors), rosters (project managers), ───
  // ─── deep linking (the launch's own user), dynamic registration (organization admins)        ───
  {
    // 202: the job that posts the score fails later against the closed port, which is not this route's answer.
    route: 'POST /api/v1/lti/links/:id/scores',
    fresh: true,
    request: async (s) => {
      const o = await ltiServicesObjects(s);
      return {
        path: `/api/v1/lti/links/${o.linkId}/scores`,
        body: {
          user: o.userId,
          score_given: 1,
          score_maximum: 2,
          activity_progress: 'Completed',
          grading_progress: 'FullyGraded',
        },
      };
    },
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 202, 403, 202, 404, 202, 202, 404, 404, 404, 202, 404),
  },
  {
    route: 'GET /api/v1/lti/scores/:id',
    request: async (s) => at(`/api/v1/lti/scores/${(await ltiServicesObjects(s)).scoreId}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 200, 200, 404, 404, 404, 200, 404),
  },
  {
    // The link's AGS claim names one line item and no container: listing it calls nobody.
    route: 'GET /api/v1/lti/links/:id/line-items',
    request: async (s) => at(`/api/v1/lti/links/${(await ltiServicesObjects(s)).linkId}/line-items`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 200, 200, 404, 404, 404, 200, 404),
  },
  {
    // Allowed callers get 422 no_grade_service: the LMS granted this link its one line item, no container to add to.
    route: 'POST /api/v1/lti/links/:id/line-items',
    request: async (s) => ({
      path: `/api/v1/lti/links/${(await ltiServicesObjects(s)).linkId}/line-items`,
      body: { label: 'Quiz', score_maximum: 10 },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 422, 403, 422, 404, 422, 422, 404, 404, 404, 422, 404),
  },
  {
    // Allowed callers get 502 platform_error: the scene's LMS is a closed port.
    route: 'GET /api/v1/lti/links/:id/results',
    request: async (s) => at(`/api/v1/lti/links/${(await ltiServicesObjects(s)).linkId}/results`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 502, 502, 502, 404, 502, 502, 404, 404, 404, 502, 404),
  },
  {
    route: 'POST /api/v1/lti/contexts/:id/sync',
    fresh: true,
    request: async (s) => ({ path: `/api/v1/lti/contexts/${(await ltiServicesObjects(s)).contextRef}/sync`, body: {} }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 202, 403, 202, 404, 202, 404, 404, 404, 404, 202, 404),
  },
  {
    // Only the launch's own user (its exchanged session) sees its picker; no caller here is that user.
    route: 'GET /api/v1/lti/deep-linking/:launchId/items',
    request: () => at('/api/v1/lti/deep-linking/00000000-0000-4000-8000-000000000000/items'),
    expect: signedIn(404),
  },
  {
    route: 'POST /api/v1/lti/deep-linking/:launchId/response',
    request: () => ({
      path: '/api/v1/lti/deep-linking/00000000-0000-4000-8000-000000000000/response',
      body: { items: [] },
    }),
    expect: signedIn(404),
  },
  {
    // The picker page and its form: the launch id is the credential; an unknown one is a 404 page for everyone.
    route: 'GET /lti/deep-linking',
    request: () => ({ path: '/lti/deep-linking', query: { launch_id: '00000000-0000-4000-8000-000000000000' } }),
    expect: everyone(404),
  },
  {
    route: 'POST /lti/deep-linking',
    request: () => ({ path: '/lti/deep-linking', form: { launch_id: '00000000-0000-4000-8000-000000000000' } }),
    expect: everyone(404),
  },
  {
    route: 'POST /api/v1/lti/registration-links',
    fresh: true,
    request: async (s) => ({ path: '/api/v1/lti/registration-links', body: { organization: (await s.org()).id } }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 403, 403, 403, 403, 403, 201, 403),
  },
  {
    route: 'POST /api/v1/lti/platforms/:id/approve',
    fresh: true,
    request: async (s) => at(`/api/v1/lti/platforms/${(await ltiServicesObjects(s)).pendingPlatformId}/approve`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    // The registration URL's one-time token is the credential: without one, a 400 page for everyone.
    route: 'GET /lti/register',
    request: () => ({
      path: '/lti/register',
      query: { openid_configuration: 'https://lms.example.edu/.well-known/openid-configuration' },
    }),
    expect: everyone(400),
  },
  // ─── LTI 1.1 provider: the launch is public (the OAuth signature is the credential), consumers are organization admins' ───
  {
    // A launch needs a consumer's signature; without one every caller gets the 400 page
    // (missing_consumer_key): the caller's bearer token plays no part.
    route: 'POST /lti/1.1/launch',
    request: () => ({ path: '/lti/1.1/launch', form: { lti_message_type: 'basic-lti-launch-request' } }),
    expect: everyone(400),
  },
  {
    route: 'GET /api/v1/lti/consumers',
    request: () => at('/api/v1/lti/consumers'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 200, 403, 403, 403, 403, 403, 200, 403),
  },
  {
    route: 'POST /api/v1/lti/consumers',
    fresh: true,
    request: async (s) => ({
      path: '/api/v1/lti/consumers',
      body: { organization: (await s.org()).id, consumer_name: unique('consumer') },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 201, 403, 201, 404, 403, 403, 403, 403, 403, 201, 403),
  },
  {
    route: 'GET /api/v1/lti/consumers/:id',
    request: async (s) => at(`/api/v1/lti/consumers/${(await s.ltiConsumer()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'PATCH /api/v1/lti/consumers/:id',
    fresh: true,
    request: async (s) => ({
      path: `/api/v1/lti/consumers/${(await s.ltiConsumer()).id}`,
      body: { consumer_name: unique('renamed') },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/lti/consumers/:id/rotate-secret',
    fresh: true,
    request: async (s) => at(`/api/v1/lti/consumers/${(await s.ltiConsumer()).id}/rotate-secret`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
  },
  {
    route: 'DELETE /api/v1/lti/consumers/:id',
    fresh: true,
    request: async (s) => at(`/api/v1/lti/consumers/${(await s.ltiConsumer()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 204, 403, 204, 404, 404, 404, 404, 404, 404, 204, 404),
  },
  // ─── LTI 1.1 grades: course staff (project managers and contributors) of the assignment's project ───
  {
    route: 'GET /api/v1/lti/assignments',
    request: () => at('/api/v1/lti/assignments'),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 200, 200, 200, 403, 200, 403, 200, 403),
  },
  {
    route: 'GET /api/v1/lti/assignments/:id',
    request: async (s) => at(`/api/v1/lti/assignments/${(await s.ltiAssignment()).id}`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 200, 200, 200, 404, 200, 200, 404, 404, 404, 200, 404),
  },
  {
    route: 'POST /api/v1/lti/assignments/:id/score',
    fresh: true,
    request: async (s) => ({
      path: `/api/v1/lti/assignments/${(await s.ltiAssignment()).id}/score`,
      body: { score: 0.5 },
    }),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 202, 403, 202, 404, 202, 202, 404, 404, 404, 202, 404),
  },
  {
    route: 'DELETE /api/v1/lti/assignments/:id/score',
    fresh: true,
    request: async (s) => at(`/api/v1/lti/assignments/${(await s.ltiAssignment()).id}/score`),
    //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
    expect: row(401, 202, 403, 202, 404, 202, 202, 404, 404, 404, 202, 404),
  },
];

/**
 * The Registrar-compatible API: v1 and v2 are the same routes under two bases. Callers without any
 * program right get 403 from the program list and 404 for a program (it is invisible to them).
 */
function registrarRows(): MatrixRoute[] {
  const rows: MatrixRoute[] = [];
  for (const base of ['/registrar/api/v1', '/registrar/api/v2']) {
    rows.push(
      {
        route: `GET ${base}/programs`,
        request: () => at(`${base}/programs`),
        // As upstream, anyone signed in gets the programs it may see: [] for those who see none.
        //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
        expect: signedIn(200),
      },
      {
        route: `GET ${base}/programs/:programKey`,
        request: async (s) => at(`${base}/programs/${(await s.program()).key}`),
        //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
        expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
      },
      {
        route: `GET ${base}/programs/:programKey/courses`,
        request: async (s) => at(`${base}/programs/${(await s.program()).key}/courses`),
        //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
        expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
      },
      {
        route: `GET ${base}/programs/:programKey/reports`,
        request: async (s) => at(`${base}/programs/${(await s.program()).key}/reports`),
        //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
        expect: row(401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 200, 404),
      },
      // Writes: support reads the program but may not write (403); everyone else who cannot see it, 404.
      {
        route: `POST ${base}/programs/:programKey/enrollments`,
        fresh: true,
        request: async (s) => ({
          path: `${base}/programs/${(await s.program()).key}/enrollments`,
          body: [{ student_key: 'new-learner', status: 'pending' }],
        }),
        //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
        expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
      },
      {
        route: `PATCH ${base}/programs/:programKey/enrollments`,
        fresh: true,
        request: async (s) => ({
          path: `${base}/programs/${(await s.program()).key}/enrollments`,
          body: [{ student_key: 'learner-1', status: 'suspended' }],
        }),
        //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
        expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
      },
      {
        route: `POST ${base}/programs/:programKey/courses/:courseId/enrollments`,
        fresh: true,
        request: async (s) => {
          const p = await s.program();
          return {
            path: `${base}/programs/${p.key}/courses/${p.courseId}/enrollments`,
            body: [{ student_key: 'learner-2', status: 'active' }],
          };
        },
        //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
        expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
      },
      {
        route: `PATCH ${base}/programs/:programKey/courses/:courseId/enrollments`,
        fresh: true,
        request: async (s) => ({
          path: `${base}/programs/${(await s.program()).key}/courses/EXT-1/enrollments`,
          body: [{ student_key: 'learner-1', status: 'inactive' }],
        }),
        //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
        expect: row(401, 200, 403, 200, 404, 404, 404, 404, 404, 404, 200, 404),
      },
      // Uploads start a job: 202 for whoever may write the program's enrollments.
      ...(['enrollments', 'course_enrollments'] as const).map((kind): MatrixRoute => ({
        route: `POST ${base}/programs/:programKey/${kind}/upload`,
        fresh: true,
        request: async (s) => ({
          path: `${base}/programs/${(await s.program()).key}/${kind}/upload`,
          file: {
            field: 'file',
            name: 'enrollments.csv',
            content:
              kind === 'enrollments'
                ? 'student_key,status\nlearner-3,pending\n'
                : 'student_key,course_id,status\nlearner-2,EXT-1,active\n',
          },
        }),
        //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
        expect: row(401, 202, 403, 202, 404, 404, 404, 404, 404, 404, 202, 404),
      })),
      // Reads run as jobs: 202 for whoever may read the program's enrollments (support included).
      ...[
        (p: { key: string }) => `${base}/programs/${p.key}/enrollments`,
        (p: { key: string }) => `${base}/programs/${p.key}/course_enrollments`,
        (p: { key: string; courseId: string }) => `${base}/programs/${p.key}/courses/${p.courseId}/enrollments`,
        (p: { key: string }) => `${base}/programs/${p.key}/courses/EXT-1/grades`,
      ].map((path, i): MatrixRoute => ({
        route: `GET ${base}/programs/:programKey/${['enrollments', 'course_enrollments', 'courses/:courseId/enrollments', 'courses/:courseId/grades'][i]}`,
        request: async (s) => at(path(await s.program())),
        //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
        expect: row(401, 202, 202, 202, 404, 404, 404, 404, 404, 404, 202, 404),
      })),
      { route: `GET ${base}/jobs`, request: () => at(`${base}/jobs`), expect: signedIn(200) },
      {
        route: `GET ${base}/jobs/:jobId`,
        request: async (s) => at(`${base}/jobs/${(await s.job()).id}`),
        // As /api/v1/jobs/:id: the owner's (and staff's; support reads); organization roles do not reach it.
        //          anon staf supp oAdm xAdm pm   pc   pmem xPm  exPm svc  none
        expect: row(401, 200, 200, 404, 404, 404, 404, 404, 404, 404, 404, 404),
      },
    );
  }
  // Signed links need no credentials: everyone gets the file.
  rows.push({
    route: 'GET /registrar/program-reports/:reportId',
    request: async (s) => {
      const url = new URL(await s.reportLink(), 'http://x');
      return { path: url.pathname, query: Object.fromEntries(url.searchParams) };
    },
    expect: everyone(200),
  });
  rows.push({
    route: 'GET /registrar/job-results/:file',
    request: async (s) => {
      const link = await s.registrarResultLink();
      const url = new URL(link, 'http://x');
      return { path: url.pathname, query: Object.fromEntries(url.searchParams) };
    },
    expect: everyone(200),
  });
  rows.push({
    route: 'GET /registrar/api/v3/programs',
    request: () => at('/registrar/api/v3/programs'),
    // As upstream, anyone signed in gets the programs it may see (a page of none for most).
    expect: signedIn(200),
  });
  return rows;
}

/** Cells whose real answer breaks the rules; the table above holds the correct status. */
export const KNOWN_ISSUES: KnownIssue[] = [];
