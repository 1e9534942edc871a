import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { LTI_REASONS, LtiReason } from '../../src/lti/launch/lti-launch-error';
import { createOrganization, createStaff, unique } from '../factories/accounts';
import {
  fullLaunch,
  launchAndExchange,
  ltiLaunch,
  ltiLogin,
  LoginResult,
  reasonOf,
  TARGET,
  TOOL_URL,
} from '../utils/lti-launch';
import { LaunchSpec, LTI, LtiPlatformSimulator, newPlatformKey, ROLE, startLtiPlatform } from '../utils/lti-platform';
import { createTestApp, TestApp } from '../utils/test-app';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/**
 * Every way a login or a launch is refused, each with its own reason code (and its own status: 400
 * for what is malformed or unknown, 401 for a proof that fails, never a 500), and every valid variant
 * a real LMS sends, accepted.
 */
describe('LTI launch validation', () => {
  let t: TestApp;
  let lms: LtiPlatformSimulator;
  let staff: { Authorization: string };
  let organization: string;

  beforeAll(async () => {
    t = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL } });
    lms = await startLtiPlatform();
    staff = (await createStaff(t)).auth;
    organization = (await createOrganization(t)).id;
    const res = await t.http.post('/api/v1/lti/platforms').set(staff).send(lms.registration(organization));
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await lms?.close();
    await t?.close();
  });

  /** The answer is the refusal page of `reason`, with its status, and the log names the reason. */
  function expectRefused(res: { status: number; text: string; headers: Record<string, unknown> }, reason: LtiReason) {
    expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status: LTI_REASONS[reason][0], reason });
    expect(res.headers.location).toBeUndefined();
    expect(t.logs.some((line) => line.includes(`"lti_reason":"${reason}"`))).toBe(true);
  }

  /** A login the tool accepted, for a launch the test then forges by hand. */
  async function login(spec: LaunchSpec = {}, params: Record<string, string | undefined> = {}): Promise<LoginResult> {
    const result = await ltiLogin(t, lms.loginParams(lms.prepare(spec), TARGET, params));
    expect(result.res.status).toBe(302);
    return result;
  }

  /** The claims the simulator would sign for `nonce`, decoded (to re-sign them some other way). */
  async function claimsFor(nonce: string, spec: LaunchSpec = {}): Promise<Record<string, unknown>> {
    const token = await lms.signIdToken({ targetLinkUri: TARGET, ...spec }, nonce);
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
  }

  describe('the id_token is refused', () => {
    const cases: [string, LaunchSpec | (() => Promise<LaunchSpec>), LtiReason][] = [
      [
        'a signature by another key under the platform key’s kid',
        async () => ({ key: await newPlatformKey(), header: { kid: lms.key.kid } }),
        'bad_signature',
      ],
      ['a kid the platform’s JWKS does not hold', async () => ({ key: await newPlatformKey() }), 'unknown_kid'],
      ['no kid in the header', { header: { kid: undefined } }, 'missing_kid'],
      ['iss of another platform', { claims: { iss: 'https://other-lms.example.edu' } }, 'wrong_issuer'],
      ['aud without our client_id', { claims: { aud: 'someone-else' } }, 'wrong_audience'],
      ['aud as an array without our client_id', { claims: { aud: ['a', 'b'], azp: 'a' } }, 'wrong_audience'],
      ['several aud and no azp', () => Promise.resolve({ claims: { aud: [lms.clientId, 'other'] } }), 'missing_azp'],
      [
        'several aud and azp another client',
        () => Promise.resolve({ claims: { aud: [lms.clientId, 'other'], azp: 'other' } }),
        'wrong_azp',
      ],
      ['a single aud and azp another client', { claims: { azp: 'other' } }, 'wrong_azp'],
      ['no exp', { omit: ['exp'] }, 'missing_exp'],
      ['no iat', { omit: ['iat'] }, 'missing_iat'],
      ['a string exp', { claims: { exp: 'tomorrow' } }, 'missing_exp'],
      ['iat in the future beyond the clock skew (90 s)', { iat: 90, exp: 400 }, 'iat_in_future'],
      ['expired beyond the clock skew', { iat: -400, exp: -70 }, 'token_expired'],
      ['no nonce', { omit: ['nonce'] }, 'missing_nonce'],
      ['a nonce the tool never issued', { nonce: 'nonce-we-never-issued' }, 'nonce_not_issued'],
      ['no deployment_id', { omit: [`${LTI}/deployment_id`] }, 'missing_deployment_id'],
      ['a deployment_id that is not the platform’s', { deploymentId: 'deployment-unknown' }, 'unknown_deployment'],
      ['version 1.1', { claims: { [`${LTI}/version`]: '1.1.0' } }, 'wrong_version'],
      ['no version', { omit: [`${LTI}/version`] }, 'wrong_version'],
      [
        'a message type the tool does not handle',
        { messageType: 'LtiSubmissionReviewRequest' },
        'unsupported_message_type',
      ],
      ['no message type', { omit: [`${LTI}/message_type`] }, 'unsupported_message_type'],
      ['no target_link_uri', { omit: [`${LTI}/target_link_uri`] }, 'missing_target_link_uri'],
      [
        'a target_link_uri that is not ours',
        { targetLinkUri: 'https://evil.example/steal' },
        'foreign_target_link_uri',
      ],
      [
        'a target_link_uri of ours other than the login’s',
        { targetLinkUri: `${TOOL_URL}/lti/app?other=1` },
        'target_link_uri_mismatch',
      ],
      ['no resource_link', { omit: [`${LTI}/resource_link`] }, 'missing_resource_link'],
      ['a resource_link without id', { resourceLink: { id: '', title: 'Lab' } }, 'missing_resource_link'],
      ['no roles claim', { omit: [`${LTI}/roles`] }, 'missing_roles'],
      ['roles that are not a list', { roles: 'Learner' as unknown as string[] }, 'invalid_claim'],
      ['no sub (anonymous launch)', { omit: ['sub'] }, 'missing_sub'],
      ['an empty sub', { sub: '' }, 'missing_sub'],
    ];

    it.each(cases)('%s', async (_name, make, reason) => {
      const spec = typeof make === 'function' ? await make() : make;
      // The login names TARGET; a spec's own target link (or any other tampering) is the id_token's only.
      const loginResult = await ltiLogin(t, lms.loginParams(lms.prepare(spec), TARGET));
      expect(loginResult.res.status).toBe(302);
      const fields = await lms.authorize(loginResult.location);
      const res = await ltiLaunch(t, fields, loginResult.cookie);
      expectRefused(res, reason);
    });

    it('alg none', async () => {
      const l = await login();
      const token = `${b64({ alg: 'none', typ: 'JWT', kid: lms.key.kid })}.${b64(await claimsFor(l.nonce))}.`;
      expectRefused(await ltiLaunch(t, { id_token: token, state: l.state }, l.cookie), 'alg_not_allowed');
    });

    it('HS256 keyed with the platform’s public key (algorithm confusion)', async () => {
      const l = await login();
      const secret = new TextEncoder().encode(JSON.stringify(lms.key.publicJwk));
      const token = await new SignJWT(await claimsFor(l.nonce))
        .setProtectedHeader({ alg: 'HS256', kid: lms.key.kid })
        .sign(secret);
      expectRefused(await ltiLaunch(t, { id_token: token, state: l.state }, l.cookie), 'alg_not_allowed');
    });

    it('a token that is not a JWT', async () => {
      const l = await login();
      expectRefused(await ltiLaunch(t, { id_token: 'not-a-jwt', state: l.state }, l.cookie), 'malformed_id_token');
    });

    it('a nonce issued by this tool for another login (another state)', async () => {
      const a = await login();
      const b = await login();
      const token = await lms.signIdToken({ targetLinkUri: TARGET }, a.nonce);
      expectRefused(await ltiLaunch(t, { id_token: token, state: b.state }, b.cookie), 'nonce_not_bound_to_state');
    });

    it('a nonce a launch already used', async () => {
      const first = await fullLaunch(t, lms);
      expect(first.res.status).toBe(303);
      const used = new URL(first.login.location).searchParams.get('nonce')!;
      const l = await login();
      const token = await lms.signIdToken({ targetLinkUri: TARGET }, used);
      expectRefused(await ltiLaunch(t, { id_token: token, state: l.state }, l.cookie), 'nonce_used');
    });
  });

  describe('the form post is refused', () => {
    it('no id_token', async () => {
      const l = await login();
      expectRefused(await ltiLaunch(t, { state: l.state }, l.cookie), 'missing_id_token');
    });

    it('no state', async () => {
      const l = await login();
      const token = await lms.signIdToken({ targetLinkUri: TARGET }, l.nonce);
      expectRefused(await ltiLaunch(t, { id_token: token }, l.cookie), 'missing_state');
    });

    it('a state the tool never issued', async () => {
      const l = await login();
      const token = await lms.signIdToken({ targetLinkUri: TARGET }, l.nonce);
      expectRefused(await ltiLaunch(t, { id_token: token, state: 'forged-state' }, l.cookie), 'unknown_state');
    });

    it('a state cookie of the right name with another value', async () => {
      const l = await login();
      const fields = await lms.authorize(l.location);
      const forged = `${l.cookie.split('=')[0]}=${randomBytes(32).toString('base64url')}`;
      expectRefused(await ltiLaunch(t, fields, forged), 'state_cookie_mismatch');
    });

    it('another login’s state cookie', async () => {
      const a = await login();
      const b = await login();
      const fields = await lms.authorize(a.location);
      const swapped = `${a.cookie.split('=')[0]}=${b.cookie.split('=').slice(1).join('=')}`;
      expectRefused(await ltiLaunch(t, fields, swapped), 'state_cookie_mismatch');
    });

    it('no state cookie and no platform storage', async () => {
      const l = await login();
      const fields = await lms.authorize(l.location);
      expectRefused(await ltiLaunch(t, fields, null), 'missing_state_cookie');
    });

    it('a platform storage answer posted from another site', async () => {
      const l = await login();
      const fields = await lms.authorize(l.location);
      const res = await t.http
        .post('/lti/launch')
        .type('form')
        .set('Sec-Fetch-Site', 'cross-site')
        .send({ ...fields, lti_storage_value: 'whatever-the-attacker-says' });
      expectRefused(res, 'storage_cross_site');
    });

    it('a platform storage answer that is not this login’s secret', async () => {
      const l = await login();
      const fields = await lms.authorize(l.location);
      const res = await t.http
        .post('/lti/launch')
        .type('form')
        .set('Sec-Fetch-Site', 'same-origin')
        .send({ ...fields, lti_storage_value: randomBytes(32).toString('base64url') });
      expectRefused(res, 'storage_value_mismatch');
    });

    it('an id_token of another of the platform’s deployments than the login named', async () => {
      const other = await startLtiPlatform();
      try {
        const registration = other.registration(organization, { deployment_ids: [other.deploymentId, 'second'] });
        expect((await t.http.post('/api/v1/lti/platforms').set(staff).send(registration)).status).toBe(201);
        const l = await ltiLogin(t, other.loginParams(other.prepare({ deploymentId: 'second' }), TARGET));
        expect(l.res.status).toBe(302);
        expectRefused(await ltiLaunch(t, await other.authorize(l.location), l.cookie), 'deployment_mismatch');
      } finally {
        await other.close();
      }
    });

    it('a platform whose JWKS cannot be fetched', async () => {
      const other = await startLtiPlatform();
      try {
        expect(
          (await t.http.post('/api/v1/lti/platforms').set(staff).send(other.registration(organization))).status,
        ).toBe(201);
        other.jwksStatus = 503;
        const launch = await fullLaunch(t, other);
        expectRefused(launch.res, 'jwks_unavailable');
        expect(other.jwksRequests).toBeGreaterThan(0);
      } finally {
        await other.close();
      }
    });

    it('a launch of a platform deleted between the login and the launch', async () => {
      const other = await startLtiPlatform();
      try {
        const created = await t.http.post('/api/v1/lti/platforms').set(staff).send(other.registration(organization));
        expect(created.status).toBe(201);
        const l = await ltiLogin(t, other.loginParams(other.prepare({}), TARGET));
        expect(l.res.status).toBe(302);
        const fields = await other.authorize(l.location);
        expect((await t.http.delete(`/api/v1/lti/platforms/${created.body.id}`).set(staff)).status).toBe(204);
        expectRefused(await ltiLaunch(t, fields, l.cookie), 'platform_deleted');
        // And its logins are refused from now on.
        expectRefused((await ltiLogin(t, other.loginParams(other.prepare({}), TARGET))).res, 'unknown_issuer');
      } finally {
        await other.close();
      }
    });
  });

  describe('the login is refused with a 400 page naming the reason', () => {
    const params = () => lms.loginParams(lms.prepare({}), TARGET);
    const cases: [string, () => Record<string, string | undefined>, LtiReason][] = [
      ['no iss', () => ({ ...params(), iss: undefined }), 'missing_iss'],
      ['an issuer no platform has', () => ({ ...params(), iss: 'https://unknown-lms.example.edu' }), 'unknown_issuer'],
      ['no login_hint', () => ({ ...params(), login_hint: undefined }), 'missing_login_hint'],
      ['no target_link_uri', () => ({ ...params(), target_link_uri: undefined }), 'missing_target_link_uri'],
      [
        'a target_link_uri of another site (no open redirect)',
        () => ({ ...params(), target_link_uri: 'https://evil.example/phish' }),
        'foreign_target_link_uri',
      ],
      [
        'a target_link_uri on our host name but another scheme',
        () => ({ ...params(), target_link_uri: TARGET.replace('https:', 'http:') }),
        'foreign_target_link_uri',
      ],
      [
        'a client_id the issuer is not registered under',
        () => ({ ...params(), client_id: 'nope' }),
        'unknown_client_id',
      ],
      [
        'an lti_deployment_id that is not the platform’s',
        () => ({ ...params(), lti_deployment_id: 'deployment-unknown' }),
        'unknown_deployment',
      ],
      ['a repeated parameter', () => params(), 'invalid_parameter'],
    ];

    it.each(cases)('%s', async (name, make, reason) => {
      const p = Object.fromEntries(Object.entries(make()).filter((e): e is [string, string] => e[1] !== undefined));
      const res =
        name === 'a repeated parameter'
          ? await t.http.get(`/lti/login?${new URLSearchParams(p).toString()}&login_hint=again`)
          : (await ltiLogin(t, p)).res;
      expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status: 400, reason });
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('an issuer registered under several client ids, without client_id', async () => {
      const other = await startLtiPlatform();
      try {
        for (const client_id of [other.clientId, `${other.clientId}-second`])
          expect(
            (
              await t.http
                .post('/api/v1/lti/platforms')
                .set(staff)
                .send(other.registration(organization, { client_id }))
            ).status,
          ).toBe(201);
        const res = (await ltiLogin(t, other.loginParams(other.prepare({}), TARGET, { client_id: undefined }))).res;
        expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status: 400, reason: 'client_id_required' });
        // Naming it picks the registration.
        expect((await ltiLogin(t, other.loginParams(other.prepare({}), TARGET))).res.status).toBe(302);
      } finally {
        await other.close();
      }
    });

    it('the same by POST', async () => {
      const res = (await ltiLogin(t, { ...params(), target_link_uri: 'https://evil.example/phish' }, 'POST')).res;
      expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status: 400, reason: 'foreign_target_link_uri' });
    });
  });

  describe('valid launches are accepted', () => {
    const ctx = () => ({ id: unique('ctx'), title: unique('Course') });

    it('short role names (Instructor, Learner)', async () => {
      const context = ctx();
      expect((await launchAndExchange(t, lms, { roles: ['Instructor'], context })).session.role).toBe(
        'project_manager',
      );
      expect((await launchAndExchange(t, lms, { roles: ['Learner'], context })).session.role).toBe('project_member');
    });

    it('an unknown role URI, as a member', async () => {
      const { session } = await launchAndExchange(t, lms, {
        roles: ['http://example.edu/roles#Wizard'],
        context: ctx(),
      });
      expect(session.role).toBe('project_member');
    });

    it('empty roles, as a member', async () => {
      expect((await launchAndExchange(t, lms, { roles: [], context: ctx() })).session.role).toBe('project_member');
    });

    it('institution roles only grant nothing beyond member', async () => {
      const { session } = await launchAndExchange(t, lms, {
        roles: [ROLE.institutionAdministrator, ROLE.systemAdministrator],
        context: ctx(),
      });
      expect(session.role).toBe('project_member');
    });

    it('an email only: the username comes from its local part', async () => {
      const local = unique('only.mail')
        .replace(/[^a-z0-9.]/gi, '')
        .slice(0, 24);
      const { session } = await launchAndExchange(t, lms, { email: `${local}@example.edu` });
      expect(session.user).toMatchObject({ email: `${local}@example.edu`, first_name: '', last_name: '' });
      expect(session.user.username.startsWith(local.toLowerCase().slice(0, 20))).toBe(true);
    });

    it('names only', async () => {
      const { session } = await launchAndExchange(t, lms, { givenName: 'Katherine', familyName: 'Johnson' });
      expect(session.user).toMatchObject({ email: null, first_name: 'Katherine', last_name: 'Johnson' });
      expect(session.user.username).toMatch(/^katherine\.johnson/);
    });

    it('no PII at all: a pseudonymous user', async () => {
      const { session } = await launchAndExchange(t, lms, {});
      expect(session.user).toMatchObject({ email: null, first_name: '', last_name: '' });
      expect(session.user.username).toMatch(/^lti_user_/);
    });

    it('no context: signed in with no course role', async () => {
      const { session } = await launchAndExchange(t, lms, { context: null, roles: [ROLE.instructor] });
      expect(session).toMatchObject({ project: null, role: null });
    });

    it('aud as an array with azp our client_id', async () => {
      const { launch } = await launchAndExchange(t, lms, {
        claims: { aud: [lms.clientId, 'other'], azp: lms.clientId },
      });
      expect(launch.res.status).toBe(303);
    });

    it('login by GET and by POST', async () => {
      for (const method of ['GET', 'POST'] as const) {
        const l = await ltiLogin(t, lms.loginParams(lms.prepare({}), TARGET), method);
        expect(l.res.status).toBe(302);
        const res = await ltiLaunch(t, await lms.authorize(l.location), l.cookie);
        expect(res.status).toBe(303);
      }
    });

    it('no lti_message_hint, no client_id and no lti_deployment_id in the login', async () => {
      const launch = await fullLaunch(
        t,
        lms,
        {},
        { loginParams: { lti_message_hint: undefined, client_id: undefined, lti_deployment_id: undefined } },
      );
      expect(launch.res.status).toBe(303);
      expect(new URL(launch.login.location).searchParams.has('lti_message_hint')).toBe(false);
    });

    it('unicode names', async () => {
      const { session } = await launchAndExchange(t, lms, {
        givenName: 'Zoë',
        familyName: 'Ørsted-Nakamura 中村',
        name: 'Zoë Ørsted-Nakamura 中村',
        context: { id: unique('ctx'), title: 'Écoulements — 流体 101' },
      });
      expect(session.user).toMatchObject({ first_name: 'Zoë', last_name: 'Ørsted-Nakamura 中村' });
      expect(session.project?.name).toBe('Écoulements — 流体 101');
    });

    it('extra claims, of other specs and private ones', async () => {
      const { session } = await launchAndExchange(t, lms, {
        claims: {
          'https://purl.imsglobal.org/spec/lti/claim/lis': { person_sourcedid: 'sis-1' },
          'https://example.edu/claims/favourite': { colour: 'teal' },
          locale: 'fr-CA',
        },
      });
      expect(session.role).toBe('project_member');
    });

    it('iat 30 s in the past', async () => {
      expect((await fullLaunch(t, lms, { iat: -30 })).res.status).toBe(303);
    });

    it('iat 5 s in the future (a platform clock ahead)', async () => {
      expect((await fullLaunch(t, lms, { iat: 5 })).res.status).toBe(303);
    });

    it('a token issued an hour ago, still before its exp (no maximum age)', async () => {
      expect((await fullLaunch(t, lms, { iat: -3600, exp: 20 })).res.status).toBe(303);
    });

    it('a token past its exp by less than the clock skew', async () => {
      expect((await fullLaunch(t, lms, { iat: -300, exp: -20 })).res.status).toBe(303);
    });
  });
});
