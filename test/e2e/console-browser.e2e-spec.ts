import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { DataSource } from 'typeorm';
import { createOrganization, createUser, unique } from '../factories/accounts';
import { Chromium, describeWithChromium, launchChromium } from '../utils/chromium';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import {
  BROWSER_TIMEOUT,
  checkPage,
  CONSOLE_PASSWORD,
  openPage,
  SCREENSHOTS,
  seriousViolations,
  shot,
  signIn as signInAt,
} from '../utils/console-browser';
import { closedPort } from '../utils/local-http';
import { LmsBrowserPlatform, startLmsBrowserPlatform, TOOL_FRAME } from '../utils/lti-browser-platform';
import { ToolBlock, toolUrlsOf } from '../utils/lti-registration';
import { createTestApp, TestApp } from '../utils/test-app';

const PASSWORD = CONSOLE_PASSWORD;
const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership#';
const TIMEOUT = BROWSER_TIMEOUT;

describeWithChromium('The web console in Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Chromium;
  let lms: LmsBrowserPlatform | undefined;
  let admin: Awaited<ReturnType<typeof createUser>>;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    const port = await closedPort();
    base = `http://127.0.0.1:${port}`;
    t = await createTestApp({ settings: { ...jobSettings('in-process'), PUBLIC_URL: base, LOGIN_RATE_LIMIT: '1000' } });
    await t.app.listen(port, '127.0.0.1');
    admin = await createUser(t, { isStaff: true, password: PASSWORD });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await lms?.close();
    await t?.close();
  });

  const newPage = (viewport?: { width: number; height: number }) => openPage(browser, cspViolations, viewport);
  const signIn = (page: Page, username: string, password = PASSWORD) => signInAt(page, base, username, password);

  it('serves its pages with a strict CSP and no framing, and its files with long caching', async () => {
    const page = await t.http.get('/console/organizations').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await t.http.get(script!).expect(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.headers['content-type']).toMatch(/javascript/);
    await t.http.get('/console/assets/missing.js').expect(404);
    await t.http.get('/console/assets/..%2F..%2Fpackage.json').expect(404);
  });

  it('an admin signs in, creates an organization, a course project and 20 course accounts from a CSV file, and watches the job reach 100 %', async () => {
    const page = await newPage();
    await page.goto(`${base}/console/`);
    await page.getByLabel('Username or e-mail').waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await checkPage(page, 'sign-in');
    await signIn(page, admin.row.username);
    // No token where a page script or a link could leak it: only the HttpOnly cookie of the session routes.
    expect(await page.evaluate('localStorage.length + sessionStorage.length')).toBe(0);
    expect(await page.evaluate('document.cookie')).toBe('');
    const cookies = (await browser.context.cookies()).filter((c) => c.domain === '127.0.0.1');
    expect(cookies.map((c) => [c.name, c.path, c.httpOnly, c.secure, c.sameSite])).toEqual([
      ['campus_access_session', '/api/v1/auth/session', true, true, 'Strict'],
    ]);
    // A reload loses the in-memory token; the cookie gets a new one without signing in again.
    await page.reload();
    await page.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });
    expect(new URL(page.url()).pathname).toBe('/console/');
    await checkPage(page, 'organizations');

    const key = unique('org')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-');
    await page.getByLabel('Name').fill(`Faculty ${key}`);
    await page.getByLabel('Key (lower-case letters, digits, hyphens)').fill(key);
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.getByRole('heading', { name: `Faculty ${key}` }).waitFor({ timeout: TIMEOUT });
    await checkPage(page, 'organization');

    await page.getByLabel('Name', { exact: true }).first().fill('Compilers');
    await page.locator('#project-name').fill('Compilers');
    await page.locator('#project-key').fill('compilers-2027');
    await page.locator('#project-kind').selectOption('course');
    await page.locator('#project-end').fill('2099-06-30');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Compilers' }).waitFor({ timeout: TIMEOUT });
    await checkPage(page, 'project');
    await page.getByRole('link', { name: 'Course accounts' }).click();
    await page.getByRole('heading', { name: /Course accounts of Compilers/ }).waitFor({ timeout: TIMEOUT });

    const csv = ['email,description', ...Array.from({ length: 20 }, (_, i) => `student${i + 1}@example.edu,Lab ${i}`)];
    await page.getByLabel('Or a CSV file').setInputFiles({
      name: 'students.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv.join('\r\n') + '\r\n'),
    });
    await expect(page.getByTestId('bulk-summary').textContent()).resolves.toContain('20 accounts to create');
    await page.getByRole('button', { name: 'Create 20 course accounts' }).click();
    const progress = page.locator('.live-job progress');
    await progress.waitFor({ timeout: TIMEOUT });
    // Polled every second: the percent climbs to 100 (a string predicate would be eval, which the CSP refuses).
    await page
      .locator('.live-job [data-testid=job-percent]')
      .filter({ hasText: /^100$/ })
      .waitFor({ timeout: TIMEOUT });
    expect(await progress.getAttribute('value')).toBe('100');
    await page.locator('.live-job').getByText('Succeeded').waitFor();
    // The list was read again when the job finished: 20 accounts, each OK.
    const okRows = page.locator('[data-testid=course-accounts] tbody tr[data-state=OK]');
    await waitFor(async () => (await okRows.count()) === 20, TIMEOUT, '20 OK accounts in the table');
    await checkPage(page, 'course-accounts');

    await page.getByRole('link', { name: 'Open the job' }).click();
    await page.getByRole('heading', { name: /Job/ }).waitFor();
    await page.getByTestId('job-percent').filter({ hasText: '100' }).waitFor({ timeout: TIMEOUT });
    await checkPage(page, 'job');
    await page.getByRole('link', { name: 'Jobs' }).first().click();
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    await checkPage(page, 'jobs');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByText('auth.login', { exact: true }).first().waitFor({ timeout: TIMEOUT });
    await checkPage(page, 'audit');

    // At phone width the table scrolls inside its box and the page does not overflow.
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goBack();
    await page.goBack();
    await page.goBack();
    await page.getByRole('heading', { name: /Course accounts of Compilers/ }).waitFor({ timeout: TIMEOUT });
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await shot(page, 'course-accounts-phone');
    expect(cspViolations).toEqual([]);
    await page.close();
  });

  it('a project member sees no close button, and the API refuses the close with 403', async () => {
    const org = await createOrganization(t);
    const project = await t.http
      .post('/api/v1/projects')
      .set(admin.auth)
      .send({ organization: org.id, key: unique('p'), name: 'Databases', kind: 'course', end_date: '2099-01-31' })
      .expect(201);
    const created = await t.http
      .post('/api/v1/course-accounts')
      .set(admin.auth)
      .send({ project: project.body.id, email: `${unique('learner')}@example.edu` })
      .expect(201);
    const member = await createUser(t, { organizationId: org.id, password: PASSWORD });
    const group = await t.http
      .post('/api/v1/groups')
      .set(admin.auth)
      .send({ name: 'Learners', scope_type: 'project', scope_id: project.body.id, role: 'project_member' })
      .expect(201);
    await t.http
      .post(`/api/v1/groups/${group.body.id}/members`)
      .set(admin.auth)
      .send({ principal_type: 'user', principal_id: member.row.id })
      .expect(201);

    const page = await newPage();
    await browser.context.clearCookies();
    const asked: string[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/api/v1/permissions')) asked.push(r.url());
    });
    await signIn(page, member.row.username);
    await page.goto(`${base}/console/projects/${project.body.id}/course-accounts`);
    const table = page.getByTestId('course-accounts');
    await table.waitFor({ timeout: TIMEOUT });
    await table.locator(`tr[data-state]`).first().waitFor();
    // The page asked what the member may do on the accounts before drawing the buttons.
    await waitFor(
      async () => asked.some((u) => u.includes('object_type=CourseAccount')),
      TIMEOUT,
      'the permissions of the accounts',
    );
    await page.waitForTimeout(300);
    expect(await page.getByRole('button', { name: /^Close/ }).count()).toBe(0);
    expect(await page.getByLabel(/E-mail addresses/).count()).toBe(0);
    await checkPage(page, 'course-accounts-member');
    const refused = await t.http.delete(`/api/v1/course-accounts/${created.body.id}`).set(member.auth);
    expect(refused.status).toBe(403);
    await page.close();
    await browser.context.clearCookies();
  });

  it('service accounts, group members, LTI platforms and the password page work and are accessible', async () => {
    const org = await createOrganization(t);
    const project = await t.http
      .post('/api/v1/projects')
      .set(admin.auth)
      .send({ organization: org.id, key: unique('p'), name: 'Networks', kind: 'course', end_date: '2099-01-31' })
      .expect(201);
    const group = await t.http
      .post('/api/v1/groups')
      .set(admin.auth)
      .send({ name: 'Tutors', scope_type: 'project', scope_id: project.body.id, role: 'project_contributor' })
      .expect(201);
    const tutor = await createUser(t, { organizationId: org.id });
    const page = await newPage();
    await browser.context.clearCookies();
    await signIn(page, admin.row.username);

    // A service account: its secret is shown once, with a copy button; rotating shows the new one.
    await page.goto(`${base}/console/organizations/${org.id}/service-accounts`);
    await page.getByLabel('Name').fill('Grader');
    await page.getByLabel('Allowed scopes (space separated)').fill('course-accounts:read');
    await page.getByRole('button', { name: 'Create service account' }).click();
    const once = page.getByTestId('secret-once');
    await once.waitFor({ timeout: TIMEOUT });
    const secret = await once.getByRole('textbox', { name: 'Client secret' }).inputValue();
    expect(secret.length).toBeGreaterThan(20);
    expect(await once.getByRole('button', { name: 'Copy Client secret' }).count()).toBe(1);
    await checkPage(page, 'service-accounts');
    await once.getByRole('button', { name: 'I stored it' }).click();
    expect(await page.getByTestId('secret-once').count()).toBe(0);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = await page.getByTestId('secret-once').getByRole('textbox', { name: 'Client secret' }).inputValue();
    expect(rotated).not.toBe(secret);

    // Group members: added with an expiry, then removed.
    await page.goto(`${base}/console/groups/${group.body.id}`);
    await page.getByLabel('Username or e-mail').fill(tutor.row.username);
    await page.getByLabel('Expires (empty: never)').fill('2099-05-01T12:00');
    await page.getByRole('button', { name: 'Add member' }).click();
    const memberRow = page.locator('tr', { hasText: tutor.row.username });
    await memberRow.waitFor({ timeout: TIMEOUT });
    expect(await memberRow.textContent()).toContain('2099');
    const members = await t.http.get(`/api/v1/groups/${group.body.id}/members`).set(admin.auth).expect(200);
    expect(members.body.results).toEqual([
      expect.objectContaining({ principal_id: tutor.row.id, expires_at: expect.stringMatching(/^2099-05-01/) }),
    ]);
    await checkPage(page, 'group');
    await memberRow.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('No member yet.').waitFor({ timeout: TIMEOUT });

    // LTI platforms: the register form, and a platform's tool values with copy buttons.
    await page.goto(`${base}/console/lti-platforms?organization=${org.id}`);
    await page.getByRole('heading', { name: 'Register an LMS' }).waitFor({ timeout: TIMEOUT });
    await page.getByLabel('Name', { exact: true }).fill('Moodle');
    await page.getByLabel('Issuer').fill('http://127.0.0.9:9000');
    await page.getByLabel('Client id (given by the LMS)').fill(unique('client'));
    await page.getByLabel('OIDC authorization URL').fill('http://127.0.0.9:9000/auth');
    await page.getByLabel('Access token URL').fill('http://127.0.0.9:9000/token');
    await page.getByLabel('Platform keyset (JWKS) URL').fill('http://127.0.0.9:9000/jwks');
    await page.getByLabel('Deployment ids (comma separated)').fill('1');
    await checkPage(page, 'lti-platforms');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: 'Tool values for the LMS' }).waitFor({ timeout: TIMEOUT });
    expect(await page.getByRole('textbox', { name: 'Target link URL' }).inputValue()).toBe(`${base}/console/lti`);
    expect(await page.getByRole('button', { name: /^Copy / }).count()).toBeGreaterThanOrEqual(5);
    await checkPage(page, 'lti-platform');
    await page.close();

    // Change password: every session ends, then sign in with the new one.
    const changer = await createUser(t, { password: PASSWORD });
    const own = await newPage();
    await browser.context.clearCookies();
    await signIn(own, changer.row.username);
    await own.getByRole('link', { name: 'Change password' }).click();
    await own.getByLabel('Current password').fill(PASSWORD);
    await own.getByLabel('New password (12 characters or more)').fill('a brand new passphrase');
    await own.getByLabel('New password again').fill('a brand new passphrase');
    await checkPage(own, 'password');
    await own.getByRole('button', { name: 'Change password' }).click();
    await own.getByRole('button', { name: 'Sign in with the new password' }).click();
    await own.getByLabel('Username or e-mail').fill(changer.row.username);
    await own.getByLabel('Password').fill('a brand new passphrase');
    await own.getByRole('button', { name: 'Sign in' }).click();
    await own.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });
    await own.close();
    await browser.context.clearCookies();
  });

  it('a 401 the refresh cannot cure returns to sign-in, and comes back to the page after it', async () => {
    const user = await createUser(t, { isStaff: true, password: PASSWORD });
    const page = await newPage();
    await signIn(page, user.row.username);
    // Every session of the user ends: the access token is refused and so is the cookie.
    await t.app.get(DataSource).query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1', [user.row.id]);
    await page.route('**/api/v1/jobs?**', (route) =>
      route.fulfill({
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'unauthenticated', message: 'The access token has expired.' }),
      }),
    );
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByLabel('Username or e-mail').waitFor({ timeout: TIMEOUT });
    await page.waitForURL((url) => url.pathname === '/console/sign-in', { timeout: TIMEOUT });
    expect(new URL(page.url()).searchParams.get('next')).toBe('/jobs');
    await shot(page, 'sign-in-after-401');
    await page.unroute('**/api/v1/jobs?**');
    await page.getByLabel('Username or e-mail').fill(user.row.username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor({ timeout: TIMEOUT });
    await page.close();
    await browser.context.clearCookies();
  });

  it('a 5xx shows a message with the request id, not a blank page', async () => {
    const page = await newPage();
    await signIn(page, admin.row.username);
    await page.route('**/api/v1/audit-events?**', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        headers: { 'X-Request-Id': 'req-console-e2e-503' },
        body: JSON.stringify({ error: 'database_unavailable', message: 'The database is not answering.' }),
      }),
    );
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByTestId('server-error').waitFor({ timeout: TIMEOUT });
    expect(await page.getByTestId('request-id').textContent()).toBe('req-console-e2e-503');
    expect(await page.getByRole('alert').textContent()).toContain('Something went wrong on the server (HTTP 503)');
    await checkPage(page, 'server-error');
    await page.close();
    await browser.context.clearCookies();
  });

  it('a real server answer carries the request id the console shows', async () => {
    const res = await t.http.get('/api/v1/organizations/not-a-uuid').set(admin.auth);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('the LTI landing page, in an iframe of the LMS on another site with third-party cookies blocked, shows the learner’s course account and no roster, and the instructor the roster naming the learner', async () => {
    lms = await startLmsBrowserPlatform({ host: '127.0.0.2' });
    const org = await createOrganization(t);
    const registered = await t.http
      .post('/api/v1/lti/platforms')
      .set(admin.auth)
      .send({
        organization: org.id,
        name: 'Browser LMS',
        issuer: lms.issuer,
        client_id: lms.clientId,
        auth_login_url: lms.authLoginUrl,
        auth_token_url: lms.authTokenUrl,
        jwks_url: lms.jwksUrl,
        deployment_ids: [lms.deploymentId],
        course_accounts_on_launch: 'always',
      })
      .expect(201);
    const tool = registered.body.tool as ToolBlock;
    expect(tool.target_link_url).toBe(`${base}/console/lti`);
    lms.registerTool(toolUrlsOf(tool));
    // The landing page may be framed by the registered platforms only.
    const landing = await t.http.get('/console/lti').expect(200);
    const ancestors = /frame-ancestors ([^;]+)/
      .exec(landing.headers['content-security-policy'] as string)![1]
      .split(' ');
    expect(ancestors).toContain(new URL(lms.issuer).origin);
    expect(ancestors).not.toContain('*');
    expect(landing.headers['x-frame-options']).toBeUndefined();

    const isolated = await launchChromium({ blockThirdPartyCookies: [{ site: base, embeddedIn: lms.origin }] });
    try {
      const page = await isolated.context.newPage();
      const id = unique('lti');
      const email = `${id}@example.edu`;
      await page.goto(
        lms.coursePage({
          sub: `sub-${id}`,
          givenName: 'Grace',
          familyName: 'Hopper',
          name: 'Grace Hopper',
          email,
          roles: [`${MEMBERSHIP}Learner`],
          context: { id: `ctx-${id}`, title: `Compilers ${id}`, label: 'CS101' },
          resourceLink: { id: `link-${id}`, title: 'Lab account' },
        }),
      );
      const frame = page.frame({ name: TOOL_FRAME })!;
      await frame.waitForSelector('#status[data-state=signed-in]', { timeout: TIMEOUT });
      expect(new URL(frame.url()).pathname).toBe('/console/lti');
      // The launch id left the address as soon as it was read.
      expect(new URL(frame.url()).searchParams.has('launch_id')).toBe(false);
      expect(await frame.textContent('[data-testid=lti-course]')).toBe(`Compilers ${id}`);
      expect(await frame.getAttribute('[data-testid=lti-role]', 'data-role')).toBe('project_member');
      expect(await frame.textContent('[data-testid=lti-email]')).toBe(email);
      const account = frame.locator('[data-testid=lti-course-account]');
      expect(['OK', 'PENDING']).toContain(await account.getAttribute('data-state'));
      const accountId = await account.getAttribute('data-account-id');
      const stored = await t.http.get(`/api/v1/course-accounts/${accountId}`).set(admin.auth).expect(200);
      expect(await frame.textContent('[data-testid=lti-account-username]')).toBe(
        stored.body.username ?? '(not yet given)',
      );
      expect(await account.getAttribute('data-state')).toBe(stored.body.state);
      // A learner sees no roster, and the API would not give it one.
      expect(await frame.locator('[data-testid=lti-roster]').count()).toBe(0);
      expect(await frame.getByRole('heading', { name: 'Roster' }).count()).toBe(0);
      // No cookie of the tool was stored in this browser, and none was needed.
      expect((await isolated.context.cookies()).filter((c) => c.domain === '127.0.0.1')).toEqual([]);
      await page.screenshot({ path: join(SCREENSHOTS, 'console-lti-landing.png'), fullPage: true });
      expect((await seriousViolations(frame)).map((v) => v.id)).toEqual([]);

      // The course's instructor launches from the same course: the roster names the learner.
      const teacherPage = await isolated.context.newPage();
      await teacherPage.goto(
        lms.coursePage({
          sub: `teacher-${id}`,
          givenName: 'Ada',
          familyName: 'Lovelace',
          name: 'Ada Lovelace',
          email: `teacher-${id}@example.edu`,
          roles: [`${MEMBERSHIP}Instructor`],
          context: { id: `ctx-${id}`, title: `Compilers ${id}`, label: 'CS101' },
          resourceLink: { id: `link-${id}`, title: 'Lab account' },
        }),
      );
      const teacher = teacherPage.frame({ name: TOOL_FRAME })!;
      await teacher.waitForSelector('#status[data-state=signed-in]', { timeout: TIMEOUT });
      expect(await teacher.getAttribute('[data-testid=lti-role]', 'data-role')).toBe('project_manager');
      const roster = teacher.locator('[data-testid=lti-roster]');
      await roster.waitFor({ timeout: TIMEOUT });
      const learnerRow = roster.locator('tbody tr', { hasText: 'Grace Hopper' });
      await learnerRow.waitFor({ timeout: TIMEOUT });
      expect(await learnerRow.locator('td').last().textContent()).toBe('Learner');
      expect(await roster.locator('tbody tr', { hasText: 'Ada Lovelace' }).locator('td').last().textContent()).toBe(
        'Instructor',
      );
      // A project manager does not read the organization's users: the learner's e-mail is not shown.
      expect(await learnerRow.locator('td').nth(1).textContent()).toBe('—');
      expect(await learnerRow.textContent()).not.toContain(email);
      await teacherPage.screenshot({ path: join(SCREENSHOTS, 'console-lti-landing-instructor.png'), fullPage: true });
      expect((await seriousViolations(teacher)).map((v) => v.id)).toEqual([]);
    } finally {
      await isolated.close();
    }

    // The platform's page in the console lists the launches (the learner's, then the instructor's),
    // from the platform's launches.
    const launches = await t.http
      .get(`/api/v1/lti/platforms/${registered.body.id}/launches`)
      .set(admin.auth)
      .expect(200);
    expect(launches.body.count).toBe(2);
    const launch = (launches.body.results as { id: string; user: string; project: string; roles: string[] }[]).find(
      (l) => l.roles.includes(`${MEMBERSHIP}Learner`),
    )!;
    const page = await newPage();
    await browser.context.clearCookies();
    await signIn(page, admin.row.username);
    await page.goto(`${base}/console/lti-platforms/${registered.body.id}`);
    const row = page.locator(`[data-testid=platform-launches] tr[data-launch-id="${launch.id}"]`);
    await row.waitFor({ timeout: TIMEOUT });
    expect(await row.textContent()).toContain(launch.user);
    expect(await row.textContent()).toContain('Learner');
    expect(await row.getByRole('link', { name: 'Project' }).getAttribute('href')).toBe(
      `/console/projects/${launch.project}`,
    );
    await checkPage(page, 'lti-platform-launches');
    await page.close();
  });
});
