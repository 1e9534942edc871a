import { createOrganization, createStaff } from '../factories/accounts';
import { ltiLaunch, ltiLogin, reasonOf, TARGET, TOOL_URL } from '../utils/lti-launch';
import { LtiPlatformSimulator, startLtiPlatform } from '../utils/lti-platform';
import { createTestApp, TestApp } from '../utils/test-app';

const EXTRA = 'https://*.instructure.com';

/** The `frame-ancestors` sources of a page's CSP. */
function frameAncestors(res: { headers: Record<string, unknown> }): string {
  const csp = String(res.headers['content-security-policy'] ?? '');
  const directive = csp
    .split(';')
    .map((d) => d.trim())
    .find((d) => d.startsWith('frame-ancestors '));
  if (!directive) throw new Error(`no frame-ancestors in ${csp}`);
  return directive.slice('frame-ancestors '.length);
}

/**
 * The tool's LTI pages (refusals, the postMessage storage pages, the app page) may be framed only by
 * the registered platforms' origins and the LTI_FRAME_ANCESTORS sources: a site that is not an LMS
 * of ours cannot embed them (clickjacking); no X-Frame-Options contradicts that.
 */
describe('LTI pages may be framed only by registered platforms', () => {
  let t: TestApp;
  let bare: TestApp;
  let lms: LtiPlatformSimulator;
  let staff: { Authorization: string };
  let organization: string;

  beforeAll(async () => {
    t = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL, LTI_FRAME_ANCESTORS: EXTRA } });
    bare = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL } });
    lms = await startLtiPlatform();
    staff = (await createStaff(t)).auth;
    organization = (await createOrganization(t)).id;
  });
  afterAll(async () => {
    await lms?.close();
    await bare?.close();
    await t?.close();
  });

  it('lets nobody frame them while no platform is registered, or only the configured sources', async () => {
    const res = await bare.http.get('/lti/login').query({ iss: 'https://nobody.example.edu' });
    expect(reasonOf(res)).toBe('unknown_issuer');
    expect(frameAncestors(res)).toBe("'none'");
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(frameAncestors(await t.http.get('/lti/app'))).toBe(EXTRA);
  });

  it('names the registered platforms’ origins on every page, and drops a deleted platform’s', async () => {
    const registered = await t.http.post('/api/v1/lti/platforms').set(staff).send(lms.registration(organization));
    expect(registered.status).toBe(201);
    const other = await t.http
      .post('/api/v1/lti/platforms')
      .set(staff)
      .send({
        ...lms.registration(organization),
        issuer: 'https://moodle.example.edu',
        client_id: 'moodle-client',
        auth_login_url: 'https://auth.example.edu/mod/lti/auth.php',
        auth_token_url: 'https://auth.example.edu/mod/lti/token.php',
        jwks_url: 'https://auth.example.edu/mod/lti/certs.php',
      });
    expect(other.status).toBe(201);
    const expected = [lms.origin, 'https://auth.example.edu', 'https://moodle.example.edu', EXTRA].sort().join(' ');

    // A refused login, the login's storage page, a refused launch, the launch's storage page, the app page.
    const refusedLogin = await t.http.get('/lti/login').query({ iss: lms.issuer });
    expect(reasonOf(refusedLogin)).toBe('missing_login_hint');
    const storageLogin = await ltiLogin(t, lms.loginParams(lms.prepare({}), TARGET, { lti_storage_target: '_parent' }));
    expect(storageLogin.res.status).toBe(200);
    const refusedLaunch = await ltiLaunch(t, { state: 'x' }, null);
    expect(reasonOf(refusedLaunch)).toBe('missing_id_token');
    // The storage page carries the authorization URL as JSON in its script.
    const next = JSON.parse(/"next":("[^"]*")/.exec(storageLogin.res.text)![1]) as string;
    const fields = await lms.authorize(next);
    const storageLaunch = await ltiLaunch(t, { ...fields, lti_storage_target: '_parent' }, null);
    expect(storageLaunch.status).toBe(200);
    const app = await t.http.get('/lti/app');
    for (const page of [refusedLogin, storageLogin.res, refusedLaunch, storageLaunch, app]) {
      expect(frameAncestors(page)).toBe(expected);
      expect(page.headers['x-frame-options']).toBeUndefined();
    }

    expect((await t.http.delete(`/api/v1/lti/platforms/${other.body.id}`).set(staff)).status).toBe(204);
    expect(frameAncestors(await t.http.get('/lti/app'))).toBe([lms.origin, EXTRA].sort().join(' '));
  });

  it('refuses to start with an LTI_FRAME_ANCESTORS entry that is not a host source', async () => {
    await expect(
      createTestApp({ settings: { PUBLIC_URL: TOOL_URL, LTI_FRAME_ANCESTORS: "https://ok.example.edu,'self' *" } }),
    ).rejects.toThrow(/LTI_FRAME_ANCESTORS/);
  });
});
