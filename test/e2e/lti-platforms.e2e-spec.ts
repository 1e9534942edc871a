import { DataSource } from 'typeorm';
import { createOrganization, createStaff, createUser, unique } from '../factories/accounts';
import { orgScope, userWithRole } from '../utils/course-accounts';
import { startLtiPlatform, LtiPlatformSimulator } from '../utils/lti-platform';
import { TOOL_URL } from '../utils/lti-launch';
import { createTestApp, TestApp } from '../utils/test-app';

describe('LTI platform registration', () => {
  let t: TestApp;
  let lms: LtiPlatformSimulator;

  beforeAll(async () => {
    t = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL } });
    lms = await startLtiPlatform();
  });
  afterAll(async () => {
    await lms?.close();
    await t?.close();
  });

  const body = (org: string, extra: Record<string, unknown> = {}) => ({
    ...lms.registration(org),
    client_id: unique('client'),
    ...extra,
  });

  it('registers a platform and answers the tool values to paste, all from PUBLIC_URL', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const res = await t.http
      .post('/api/v1/lti/platforms')
      .set(staff.auth)
      .set('Host', 'evil.example')
      .set('X-Forwarded-Host', 'evil.example')
      .send(body(org.id, { role_mappings: { Mentor: 'project_member' } }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      organization: org.id,
      issuer: lms.issuer,
      deployment_ids: [lms.deploymentId],
      verifies_email: false,
      course_accounts_on_launch: 'never',
      role_mappings: { 'http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor': 'project_member' },
      tool: {
        login_initiation_url: `${TOOL_URL}/lti/login`,
        redirect_url: `${TOOL_URL}/lti/launch`,
        target_link_url: `${TOOL_URL}/console/lti`,
        jwks_url: `${TOOL_URL}/lti/jwks.json`,
        domain: 'tool.example.test',
      },
    });
    expect(res.body.tool.public_key_pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const jwks = await t.http.get('/lti/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(res.body.tool.public_jwk.kid);
    expect(JSON.stringify(res.body)).not.toContain('evil.example');
  });

  it('refuses a duplicate (issuer, client_id) with 409 and accepts it again once the first is deleted', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const first = await t.http.post('/api/v1/lti/platforms').set(staff.auth).send(body(org.id));
    expect(first.status).toBe(201);
    const again = { ...body(org.id), client_id: first.body.client_id };
    const dup = await t.http.post('/api/v1/lti/platforms').set(staff.auth).send(again);
    expect(dup.status).toBe(409);
    expect(dup.body.error).toBe('duplicate_platform');
    expect((await t.http.delete(`/api/v1/lti/platforms/${first.body.id}`).set(staff.auth)).status).toBe(204);
    expect((await t.http.get(`/api/v1/lti/platforms/${first.body.id}`).set(staff.auth)).status).toBe(404);
    expect((await t.http.post('/api/v1/lti/platforms').set(staff.auth).send(again)).status).toBe(201);
  });

  it.each([
    ['plain http on a public host', { auth_login_url: 'http://lms.example.edu/auth' }],
    ['another scheme', { jwks_url: 'ftp://lms.example.edu/jwks' }],
    ['credentials in the URL', { auth_token_url: 'https://user:pw@lms.example.edu/token' }],
    ['not a URL', { jwks_url: 'not a url' }],
  ])('refuses %s (400 insecure_platform_url)', async (_, extra) => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const res = await t.http.post('/api/v1/lti/platforms').set(staff.auth).send(body(org.id, extra));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('insecure_platform_url');
  });

  it('accepts plain http on any host when LTI_ALLOW_INSECURE_PLATFORM_URLS is on', async () => {
    const other = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL, LTI_ALLOW_INSECURE_PLATFORM_URLS: 'true' } });
    try {
      const staff = await createStaff(other);
      const org = await createOrganization(other);
      const res = await other.http
        .post('/api/v1/lti/platforms')
        .set(staff.auth)
        .send(body(org.id, { auth_login_url: 'http://lms.example.edu/auth' }));
      expect(res.status).toBe(201);
    } finally {
      await other.close();
    }
  });

  it('validates the body: deployments, role mappings, unknown fields', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const noDeployments = await t.http
      .post('/api/v1/lti/platforms')
      .set(staff.auth)
      .send(body(org.id, { deployment_ids: [] }));
    expect(noDeployments.status).toBe(400);
    expect(noDeployments.body.error).toBe('validation_failed');
    const badMapping = await t.http
      .post('/api/v1/lti/platforms')
      .set(staff.auth)
      .send(body(org.id, { role_mappings: { Instructor: 'organization_admin' } }));
    expect(badMapping.status).toBe(400);
    expect(badMapping.body.error).toBe('invalid_role_mappings');
    const unknownField = await t.http
      .post('/api/v1/lti/platforms')
      .set(staff.auth)
      .send(body(org.id, { is_staff: true }));
    expect(unknownField.status).toBe(400);
    expect((await t.http.get('/api/v1/lti/platforms/not-a-uuid').set(staff.auth)).status).toBe(400);
  });

  it('lets an organization admin manage its own organization’s platforms only, lists scoped in SQL', async () => {
    const org = await createOrganization(t);
    const otherOrg = await createOrganization(t);
    const admin = await userWithRole(t, 'organization_admin', orgScope(org));
    const outsider = await userWithRole(t, 'organization_admin', orgScope(otherOrg));
    const created = await t.http.post('/api/v1/lti/platforms').set(admin.auth).send(body(org.id));
    expect(created.status).toBe(201);
    expect((await t.http.post('/api/v1/lti/platforms').set(admin.auth).send(body(otherOrg.id))).status).toBe(404);
    const mine = await t.http.get('/api/v1/lti/platforms').set(admin.auth);
    expect(mine.body.results.map((p: { id: string }) => p.id)).toEqual([created.body.id]);
    expect((await t.http.get('/api/v1/lti/platforms').set(outsider.auth)).body.count).toBe(0);
    const withPerm = await t.http.get('/api/v1/lti/platforms').query({ user_has_perm: 'delete' }).set(admin.auth);
    expect(withPerm.body.count).toBe(1);
    expect((await t.http.get(`/api/v1/lti/platforms/${created.body.id}`).set(outsider.auth)).status).toBe(404);
    const patched = await t.http
      .patch(`/api/v1/lti/platforms/${created.body.id}`)
      .set(admin.auth)
      .send({ name: 'Moodle', deployment_ids: ['d1', 'd2'], course_accounts_on_launch: 'always' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Moodle',
      deployment_ids: ['d1', 'd2'],
      course_accounts_on_launch: 'always',
    });
    const plain = await createUser(t, { organizationId: org.id });
    expect((await t.http.get('/api/v1/lti/platforms').set(plain.auth)).status).toBe(403);
    const audit = await t.app
      .get(DataSource)
      .query(`SELECT action FROM audit_events WHERE subject_id = $1 ORDER BY occurred_at`, [created.body.id]);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['lti_platform.created', 'lti_platform.updated']);
  });
});
