import { randomUUID } from 'node:crypto';
import { createOrganization, createStaff, createUser, unique } from '../factories/accounts';
import { activationGrant, newActivation } from '../utils/activation';
import { basicAuth, tokenRequest } from '../utils/oauth';
import { createTestApp, TestApp } from '../utils/test-app';

/**
 * Drives every flow that carries a credential, collecting each credential, then searches every log
 * line the app wrote for each of them.
 */
describe('Log redaction', () => {
  let t: TestApp;
  beforeAll(async () => {
    // No refresh grace: presenting a rotated token again takes the reuse path at once.
    t = await createTestApp({
      settings: { LOG_LEVEL: 'trace', LOGIN_RATE_LIMIT: '10000', REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' },
    });
  });
  afterAll(() => t.close());

  it('never writes passwords, codes, client secrets, access or refresh tokens to the logs', async () => {
    const secrets = new Map<string, string>();
    const keep = (what: string, value: unknown): string => {
      expect(typeof value).toBe('string');
      expect((value as string).length).toBeGreaterThanOrEqual(8);
      secrets.set(what, value as string);
      return value as string;
    };
    const staff = await createStaff(t);
    keep('staff access token', staff.token);
    const org = await createOrganization(t);

    // Password login, a failed one, refresh, logout.
    const password = keep('password', `pw-${unique('p')}-correct`);
    const wrongPassword = keep('wrong password', `pw-${unique('p')}-wrong`);
    const user = await createUser(t, { organizationId: org.id, password });
    await t.http.post('/api/v1/auth/login').send({ username: user.row.username, password: wrongPassword }).expect(401);
    const pair = (await t.http.post('/api/v1/auth/login').send({ username: user.row.username, password }).expect(200))
      .body;
    keep('login access token', pair.access_token);
    keep('login refresh token', pair.refresh_token);
    const refreshed = (
      await t.http.post('/api/v1/auth/refresh').send({ refresh_token: pair.refresh_token }).expect(200)
    ).body;
    keep('refreshed access token', refreshed.access_token);
    keep('refreshed refresh token', refreshed.refresh_token);
    await t.http.post('/api/v1/auth/refresh').send({ refresh_token: pair.refresh_token }).expect(401);
    await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${refreshed.access_token}`).expect(200);
    await t.http.post('/api/v1/auth/logout').send({ refresh_token: refreshed.refresh_token }).expect(204);
    // A password change: a wrong current password, then a right one; the answer is a new pair.
    const changed = keep('changed password', `pw-${unique('p')}-changed`);
    const wrongCurrent = keep('wrong current password', `pw-${unique('p')}-wrong-current`);
    const bearer = `Bearer ${pair.access_token}`;
    await t.http
      .post('/api/v1/auth/password')
      .set('Authorization', bearer)
      .send({ current_password: wrongCurrent, new_password: changed })
      .expect(400);
    const afterChange = (
      await t.http
        .post('/api/v1/auth/password')
        .set('Authorization', bearer)
        .send({ current_password: password, new_password: changed })
        .expect(200)
    ).body;
    keep('access token after a password change', afterChange.access_token);
    keep('refresh token after a password change', afterChange.refresh_token);
    // A password in a body that fails validation, and in a body that is not valid JSON.
    const invalidBodyPassword = keep('password in an invalid body', `pw-${unique('p')}-invalid`);
    await t.http
      .post('/api/v1/auth/login')
      .send({ username: user.row.username, password: invalidBodyPassword, extra: true })
      .expect(400);
    const brokenJsonPassword = keep('password in broken JSON', `pw-${unique('p')}-broken`);
    const broken = await t.http
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send(`{"username":"x","password":"${brokenJsonPassword}"`);
    expect(broken.status).toBe(400);

    // Service account: creation, tokens with Basic and body secrets, wrong secrets, rotation.
    const created = (
      await t.http
        .post('/api/v1/service-accounts')
        .set(staff.auth)
        .send({ organization: org.id, name: 'redaction' })
        .expect(201)
    ).body;
    const clientSecret = keep('client secret', created.client_secret);
    const basic = await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(created.client_id, clientSecret) },
    ).expect(200);
    keep('service token (Basic)', basic.body.access_token);
    const body = await tokenRequest(t, {
      grant_type: 'client_credentials',
      client_id: created.client_id,
      client_secret: clientSecret,
    }).expect(200);
    keep('service token (body)', body.body.access_token);
    await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${body.body.access_token}`).expect(200);
    const wrongSecret = keep('wrong client secret', `cas_${unique('wrong')}`);
    await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(created.client_id, wrongSecret) },
    ).expect(401);
    await tokenRequest(t, {
      grant_type: 'client_credentials',
      client_id: created.client_id,
      client_secret: wrongSecret,
    }).expect(401);
    // A secret sent (wrongly) in the query string.
    await t.http
      .post(`/oauth/token?client_id=${created.client_id}&client_secret=${clientSecret}`)
      .type('form')
      .send({ grant_type: 'client_credentials' })
      .expect(401);
    // Values that act as credentials in a URL: an LTI launch id, a signed URL's signature, a registration token.
    const launchId = keep('LTI launch id in a URL', randomUUID());
    await t.http.get(`/lti/app?launch_id=${launchId}`);
    const signature = keep('signed result URL signature', 'c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc');
    await t.http.get(`/registrar/job-results/${randomUUID()}.json?expires=1&signature=${signature}`);
    const registrationToken = keep('dynamic registration token', 'cmVnaXN0cmF0aW9uLXRva2VuLXJlZw');
    const registrationLink = keep('dynamic registration link token', 'bGluay10b2tlbi1saW5rLXRva2VuLWw');
    await t.http.get(
      `/lti/register?link=${registrationLink}&openid_configuration=${encodeURIComponent('https://lms.example.edu/')}&registration_token=${registrationToken}`,
    );
    const rotated = (
      await t.http.post(`/api/v1/service-accounts/${created.id}/rotate-secret`).set(staff.auth).expect(200)
    ).body;
    const rotatedSecret = keep('rotated client secret', rotated.client_secret);
    keep(
      'service token (rotated)',
      (
        await tokenRequest(
          t,
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(created.client_id, rotatedSecret) },
        ).expect(200)
      ).body.access_token,
    );

    // Activation: code, a wrong code, the activation token, the new password, the login after it.
    const who = await newActivation(t, staff.auth, org.id);
    keep('activation code', who.code);
    const wrongCode = keep('wrong activation code', 'WXYZWXYZWXYZ');
    await activationGrant(t, { crsid: who.crsid, date_of_birth: who.dateOfBirth, code: wrongCode }).expect(400);
    const grant = await activationGrant(
      t,
      { last_name: who.lastName, date_of_birth: who.dateOfBirth, code: who.code },
      'urn:devops.uis.cam.ac.uk:params:oauth:grant-type:new-user-credentials',
    ).expect(200);
    const activation = keep('activation token', grant.body.access_token);
    const newPassword = keep('activation password', `pw-${unique('p')}-activated`);
    await t.http
      .post('/api/v1/accounts/activate')
      .set('Authorization', `Bearer ${activation}`)
      .send({ password: newPassword, accept_terms: false })
      .expect(400);
    await t.http
      .post('/api/v1/accounts/activate')
      .set('Authorization', `Bearer ${activation}`)
      .send({ password: newPassword, accept_terms: true })
      .expect(204);
    const afterActivation = (
      await t.http.post('/api/v1/auth/login').send({ username: who.crsid, password: newPassword }).expect(200)
    ).body;
    keep('post-activation access token', afterActivation.access_token);
    keep('post-activation refresh token', afterActivation.refresh_token);

    // A tampered bearer token is refused without being echoed.
    const [h, p] = afterActivation.access_token.split('.');
    const forged = keep('forged token', `${h}.${p}.${Buffer.from(unique('sig')).toString('base64url')}`);
    await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${forged}`).expect(401);

    await new Promise((r) => setTimeout(r, 200));
    const logs = t.logs;
    // The requests above were logged (so the search below searched something).
    expect(logs.filter((l) => l.includes('"url":"/oauth/token')).length).toBeGreaterThanOrEqual(5);
    expect(logs.some((l) => l.includes('/api/v1/accounts/activate'))).toBe(true);
    expect(logs.some((l) => l.includes('/api/v1/auth/refresh'))).toBe(true);

    const leaks: string[] = [];
    for (const [what, value] of secrets) {
      const needles = [value, encodeURIComponent(value)];
      // A JWT's signature alone is as sensitive as the token is identifying.
      if (value.split('.').length === 3) needles.push(value.split('.')[2]);
      for (const line of logs) if (needles.some((n) => line.includes(n))) leaks.push(`${what}: ${line.slice(0, 300)}`);
    }
    expect(leaks).toEqual([]);
  });
});
