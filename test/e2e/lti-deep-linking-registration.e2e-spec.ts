import { createLocalJWKSet, jwtVerify } from 'jose';
import { createOrganization, createStaff } from '../factories/accounts';
import { formFields, LTI, LtiPlatformSimulator, ROLE, startLtiPlatform } from '../utils/lti-platform';
import { fullLaunch, ltiLogin, reasonOf, TARGET, TOOL_URL } from '../utils/lti-launch';
import { LtiServicesPlatform, startLtiServicesPlatform } from '../utils/lti-services-platform';
import { createTestApp, TestApp } from '../utils/test-app';

const DL_SETTINGS = 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings';
const DL = 'https://purl.imsglobal.org/spec/lti-dl/claim';

describe('LTI deep linking and dynamic registration', () => {
  let t: TestApp;
  let lms: LtiPlatformSimulator;
  let services: LtiServicesPlatform;
  let staff: Awaited<ReturnType<typeof createStaff>>;
  let organizationId: string;

  beforeAll(async () => {
    t = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL } });
    lms = await startLtiPlatform();
    services = await startLtiServicesPlatform({
      clientId: `dyn-${lms.clientId}`,
      toolJwks: async () => (await t.http.get('/lti/jwks.json')).body,
    });
    staff = await createStaff(t);
    organizationId = (await createOrganization(t)).id;
    const res = await t.http.post('/api/v1/lti/platforms').set(staff.auth).send(lms.registration(organizationId));
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await services?.close();
    await lms?.close();
    await t?.close();
  });

  const deepLinkingLaunch = (settings: Record<string, unknown> | undefined, sub = 'teacher-dl') =>
    fullLaunch(t, lms, {
      sub,
      roles: [ROLE.instructor],
      messageType: 'LtiDeepLinkingRequest',
      context: { id: 'ctx-dl', title: 'Deep Course' },
      omit: [`${LTI}/resource_link`],
      claims: { [DL_SETTINGS]: settings },
    });

  const settings = (extra: Record<string, unknown> = {}) => ({
    deep_link_return_url: services.deepLinkReturnUrl,
    accept_types: ['ltiResourceLink'],
    accept_presentation_document_targets: ['iframe', 'window'],
    accept_multiple: false,
    accept_lineitem: true,
    data: 'opaque-state-42',
    ...extra,
  });

  it('round trip: the picker page, the signed LtiDeepLinkingResponse posted to the LMS, verified against our JWKS', async () => {
    const launch = await deepLinkingLaunch(settings());
    expect(launch.res.status).toBe(303);
    const location = new URL(launch.res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${TOOL_URL}/lti/deep-linking`);
    const page = await t.http.get('/lti/deep-linking').query({ launch_id: launch.launchId });
    expect(page.status).toBe(200);
    const ids = [...page.text.matchAll(/type="radio" name="item" value="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toHaveLength(2);
    expect(page.text).toContain('name="score_maximum"');

    const chosen = await t.http
      .post('/lti/deep-linking')
      .type('form')
      .send({ launch_id: launch.launchId, item: ids[1], score_maximum: '10' });
    expect(chosen.status).toBe(200);
    expect(chosen.headers['content-security-policy']).toContain(`form-action 'self' ${services.origin}`);
    expect(chosen.text).toContain(`action="${services.deepLinkReturnUrl}"`);
    const { JWT } = formFields(chosen.text);
    const jwks = createLocalJWKSet((await t.http.get('/lti/jwks.json')).body);
    const { payload, protectedHeader } = await jwtVerify(JWT, jwks, { issuer: lms.clientId, audience: lms.issuer });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload).toMatchObject({
      [`${LTI}/message_type`]: 'LtiDeepLinkingResponse',
      [`${LTI}/version`]: '1.3.0',
      [`${LTI}/deployment_id`]: lms.deploymentId,
      [`${DL}/data`]: 'opaque-state-42',
      nonce: expect.any(String),
    });
    const items = payload[`${DL}/content_items`] as Record<string, unknown>[];
    expect(items).toEqual([
      expect.objectContaining({
        type: 'ltiResourceLink',
        url: `${TOOL_URL}/console/lti`, // the tool's default target link
        custom: expect.objectContaining({
          campus_access_course_account: 'true',
          campus_access_project: expect.any(String),
        }),
        lineItem: expect.objectContaining({ scoreMaximum: 10 }),
      }),
    ]);
    // The browser posts it to the LMS.
    const back = await fetch(services.deepLinkReturnUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ JWT }).toString(),
    });
    expect(back.status).toBe(200);
    expect(services.deepLinkReturns.at(-1)).toEqual({ JWT });

    // Once only.
    const again = await t.http
      .post('/lti/deep-linking')
      .type('form')
      .send({ launch_id: launch.launchId, item: ids[0] });
    expect(again.status).toBe(409);
    expect(reasonOf(again)).toBe('deep_linking_answered');
  });

  it('honours accept_multiple, accept_lineitem and accept_types', async () => {
    const single = await deepLinkingLaunch(settings({ accept_lineitem: false }));
    const page = await t.http.get('/lti/deep-linking').query({ launch_id: single.launchId });
    const ids = [...page.text.matchAll(/name="item" value="([^"]+)"/g)].map((m) => m[1]);
    expect(page.text).not.toContain('score_maximum');
    const two = await t.http.post('/lti/deep-linking').type('form').send({ launch_id: single.launchId, item: ids });
    expect(two.status).toBe(422);
    expect(reasonOf(two)).toBe('content_not_accepted');
    const withLineItem = await t.http
      .post('/lti/deep-linking')
      .type('form')
      .send({ launch_id: single.launchId, item: ids[0], score_maximum: '5' });
    expect(withLineItem.status).toBe(422);

    const files = await deepLinkingLaunch(settings({ accept_types: ['file'] }));
    const filesPage = await t.http.get('/lti/deep-linking').query({ launch_id: files.launchId });
    expect(filesPage.text).toContain('accepts none of the content');
    const refused = await t.http
      .post('/lti/deep-linking')
      .type('form')
      .send({ launch_id: files.launchId, item: ids[0] });
    expect(refused.status).toBe(422);
  });

  it('a deep-linking launch needs deep_linking_settings', async () => {
    const launch = await deepLinkingLaunch(undefined);
    expect(launch.res.status).toBe(400);
    expect(reasonOf(launch.res)).toBe('missing_deep_linking_settings');
  });

  it('the JSON picker API answers the launch’s own user only', async () => {
    const launch = await deepLinkingLaunch(settings({ accept_multiple: true }), 'teacher-json');
    const session = await t.http.post(`/api/v1/lti/launches/${launch.launchId}/exchange`);
    expect(session.status).toBe(200);
    const auth = { Authorization: `Bearer ${session.body.access_token}` };
    const items = await t.http.get(`/api/v1/lti/deep-linking/${launch.launchId}/items`).set(auth);
    expect(items.status).toBe(200);
    expect(items.body).toMatchObject({
      accept_multiple: true,
      accept_lineitem: true,
      accept_types: ['ltiResourceLink'],
    });
    expect(items.body.items).toHaveLength(2);
    const other = await t.http.get(`/api/v1/lti/deep-linking/${launch.launchId}/items`).set(staff.auth);
    expect(other.status).toBe(404);
    const answer = await t.http
      .post(`/api/v1/lti/deep-linking/${launch.launchId}/response`)
      .set(auth)
      .send({ items: items.body.items.map((i: { id: string }) => i.id) });
    expect(answer.status).toBe(200);
    expect(answer.body.return_url).toBe(services.deepLinkReturnUrl);
    const jwks = createLocalJWKSet((await t.http.get('/lti/jwks.json')).body);
    const { payload } = await jwtVerify(answer.body.jwt, jwks, { audience: lms.issuer });
    expect(payload[`${DL}/content_items`]).toHaveLength(2);
  });

  it('dynamic registration: a one-time URL, the tool registration posted, the platform approved, then launches', async () => {
    const link = await t.http
      .post('/api/v1/lti/registration-links')
      .set(staff.auth)
      .send({ organization: organizationId });
    expect(link.status).toBe(201);
    expect(link.body.url).toMatch(new RegExp(`^${TOOL_URL}/lti/register\\?link=`));
    const url = new URL(link.body.url);
    const query = {
      link: url.searchParams.get('link')!,
      openid_configuration: services.openidConfigurationUrl,
      registration_token: services.registrationToken,
    };
    const page = await t.http.get('/lti/register').query(query);
    expect(page.status).toBe(200);
    expect(page.text).toContain("postMessage({ subject: 'org.imsglobal.lti.close' }, '*')");
    const platformId = /data-lti-registered="([^"]+)"/.exec(page.text)![1];

    const sent = services.registrations.at(-1)!;
    expect(sent.token).toBe(services.registrationToken);
    expect(sent.body).toMatchObject({
      application_type: 'web',
      grant_types: expect.arrayContaining(['client_credentials', 'implicit']),
      response_types: ['id_token'],
      initiate_login_uri: `${TOOL_URL}/lti/login`,
      redirect_uris: [`${TOOL_URL}/lti/launch`],
      jwks_uri: `${TOOL_URL}/lti/jwks.json`,
      token_endpoint_auth_method: 'private_key_jwt',
      scope: expect.stringContaining('https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly'),
      'https://purl.imsglobal.org/spec/lti-tool-configuration': expect.objectContaining({
        target_link_uri: `${TOOL_URL}/console/lti`,
        claims: expect.arrayContaining(['sub', 'email']),
        messages: expect.arrayContaining([expect.objectContaining({ type: 'LtiDeepLinkingRequest' })]),
      }),
    });
    const stored = await t.http.get(`/api/v1/lti/platforms/${platformId}`).set(staff.auth);
    expect(stored.body).toMatchObject({
      issuer: services.issuer,
      client_id: `dyn-${lms.clientId}`,
      deployment_ids: ['deployment-dynamic'],
      auth_token_url: services.tokenUrl,
      approved: false,
      organization: organizationId,
    });
    const loginParams = {
      iss: services.issuer,
      login_hint: 'someone',
      target_link_uri: TARGET,
      client_id: `dyn-${lms.clientId}`,
    };
    const before = await ltiLogin(t, loginParams);
    expect(before.res.status).toBe(400);
    expect(reasonOf(before.res)).toBe('unknown_issuer');

    const approved = await t.http.post(`/api/v1/lti/platforms/${platformId}/approve`).set(staff.auth);
    expect(approved.status).toBe(200);
    expect(approved.body.approved).toBe(true);
    expect((await t.http.post(`/api/v1/lti/platforms/${platformId}/approve`).set(staff.auth)).status).toBe(409);
    const after = await ltiLogin(t, loginParams);
    expect(after.res.status).toBe(302);
    expect(after.location.startsWith(`${services.origin}/auth`)).toBe(true);

    // The URL works once.
    const reused = await t.http.get('/lti/register').query(query);
    expect(reused.status).toBe(400);
    expect(reasonOf(reused)).toBe('registration_link_invalid');
  });

  it('refuses plain-http configuration URLs off loopback and unknown registration URLs', async () => {
    const link = await t.http
      .post('/api/v1/lti/registration-links')
      .set(staff.auth)
      .send({ organization: organizationId });
    const token = new URL(link.body.url).searchParams.get('link')!;
    const insecure = await t.http
      .get('/lti/register')
      .query({ link: token, openid_configuration: 'http://lms.example.com/.well-known/openid-configuration' });
    expect(insecure.status).toBe(400);
    expect(reasonOf(insecure)).toBe('insecure_platform_url');
    const unknown = await t.http
      .get('/lti/register')
      .query({ link: 'nope', openid_configuration: services.openidConfigurationUrl });
    expect(reasonOf(unknown)).toBe('registration_link_invalid');
  });
});
