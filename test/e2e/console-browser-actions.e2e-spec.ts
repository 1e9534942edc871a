import { readFile } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { DataSource } from 'typeorm';
import { JobsService } from '../../src/jobs/jobs.service';
import { createOrganization, createUser, unique } from '../factories/accounts';
import { grantRole, orgScope } from '../permissions/grants';
import { Chromium, describeWithChromium, launchChromium } from '../utils/chromium';
import {
  BROWSER_TIMEOUT as TIMEOUT,
  checkPage,
  CONSOLE_PASSWORD as PASSWORD,
  openPage,
  SCREENSHOTS,
  signIn as signInAt,
} from '../utils/console-browser';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { JobsTestModule, STEPS_JOB } from '../utils/jobs-test.module';
import { closedPort } from '../utils/local-http';
import { createTestApp, TestApp } from '../utils/test-app';

/**
 * The console's actions on jobs, course accounts and memberships, in Chromium, each checked through
 * the API afterwards (the pages and their sign-in are those of console-browser.e2e-spec.ts).
 */
describeWithChromium('The web console in Chromium: jobs, staff recovery and membership expiries', () => {
  let t: TestApp;
  let base: string;
  let browser: Chromium;
  let staff: Awaited<ReturnType<typeof createUser>>;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    const port = await closedPort();
    base = `http://127.0.0.1:${port}`;
    t = await createTestApp({
      settings: { ...jobSettings('in-process'), PUBLIC_URL: base, LOGIN_RATE_LIMIT: '1000' },
      imports: [JobsTestModule],
    });
    await t.app.listen(port, '127.0.0.1');
    staff = await createUser(t, { isStaff: true, password: PASSWORD });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });
  afterEach(async () => {
    await browser.context.clearCookies();
  });

  const newPage = () => openPage(browser, cspViolations);
  const signIn = (page: Page, username: string) => signInAt(page, base, username, PASSWORD);

  /** An organization with a course project, made through the API by staff. */
  async function course(name: string) {
    const org = await createOrganization(t);
    const project = await t.http
      .post('/api/v1/projects')
      .set(staff.auth)
      .send({ organization: org.id, key: unique('p'), name, kind: 'course', end_date: '2099-01-31' })
      .expect(201);
    return { org, project: project.body as { id: string; name: string } };
  }

  it('the owner cancels a running job from its page: it ends Canceled, in the page and in the API', async () => {
    const owner = await createUser(t, { password: PASSWORD });
    // 100 steps of 300 ms: running for half a minute unless canceled.
    const job = await t.app
      .get(JobsService)
      .enqueue(STEPS_JOB, { steps: 100, stepMs: 300 }, { owner: { type: 'user', id: owner.row.id } });
    const page = await newPage();
    await signIn(page, owner.row.username);
    await page.goto(`${base}/console/jobs/${job.id}`);
    await page.getByRole('heading', { name: /Job/ }).waitFor({ timeout: TIMEOUT });
    await page.locator('.badge', { hasText: 'In Progress' }).waitFor({ timeout: TIMEOUT });
    const cancel = page.getByRole('button', { name: 'Cancel job' });
    await cancel.waitFor({ timeout: TIMEOUT });
    await checkPage(page, 'job-running');
    await cancel.click();
    // A running job stops at its next step; the page polls until it is finished.
    await page.locator('.badge', { hasText: 'Canceled' }).waitFor({ timeout: TIMEOUT });
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    const stored = await t.http.get(`/api/v1/jobs/${job.id}`).set(owner.auth).expect(200);
    expect(stored.body.state).toBe('Canceled');
    expect(stored.body.completed_steps).toBeLessThan(100);
    await checkPage(page, 'job-canceled');
    await page.close();
  });

  it('downloads a job’s artifact: the file saved is the CSV the API serves', async () => {
    const { org } = await course('Exports');
    const exported = await Promise.all(
      [1, 2, 3].map((n) => createUser(t, { organizationId: org.id, username: unique(`export-${n}`) })),
    );
    const started = await t.http.post(`/api/v1/organizations/${org.id}/users/export`).set(staff.auth).expect(202);
    const jobId = started.body.job_id as string;
    const page = await newPage();
    await signIn(page, staff.row.username);
    await page.goto(`${base}/console/jobs/${jobId}`);
    await page.locator('.badge', { hasText: 'Succeeded' }).waitFor({ timeout: TIMEOUT });
    const button = page.getByRole('button', { name: 'Download users.csv' });
    await button.waitFor({ timeout: TIMEOUT });
    await checkPage(page, 'job-artifacts');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: TIMEOUT }), button.click()]);
    expect(download.suggestedFilename()).toBe('users.csv');
    const saved = await readFile((await download.path())!, 'utf8');
    for (const user of exported) expect(saved).toContain(user.row.username);
    const served = await t.http.get(`/api/v1/jobs/${jobId}/artifacts/users.csv`).set(staff.auth).expect(200);
    expect(saved).toBe(served.text);
    await page.close();
  });

  it('staff recover an ERRED course account with a reason: it ends OK; an organization admin sees no recovery button', async () => {
    const { org, project } = await course('Recovery');
    const email = `${unique('learner')}@example.edu`;
    const created = await t.http.post('/api/v1/course-accounts').set(staff.auth).send({ project: project.id, email });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await waitFor(
      async () => (await t.http.get(`/api/v1/course-accounts/${id}`).set(staff.auth)).body.state === 'OK',
      TIMEOUT,
      'the account OK',
    );
    // As a close that failed leaves it: ERRED, its user deactivated, the backend still has the account.
    await t.app
      .get(DataSource)
      .query(
        `UPDATE course_accounts SET state = 'ERRED', failed_operation = 'close', error_message = 'close failed' WHERE id = $1`,
        [id],
      );

    const admin = await createUser(t, { organizationId: org.id, password: PASSWORD });
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
    const adminPage = await newPage();
    await signIn(adminPage, admin.row.username);
    await adminPage.goto(`${base}/console/projects/${project.id}/course-accounts`);
    const adminRow = adminPage.locator('[data-testid=course-accounts] tr[data-state=ERRED]');
    await adminRow.waitFor({ timeout: TIMEOUT });
    // The row's buttons are drawn from the admin's rights: it may retry, not recover.
    await adminRow.getByRole('button', { name: 'Retry' }).waitFor({ timeout: TIMEOUT });
    await adminPage.waitForTimeout(300);
    expect(await adminPage.getByRole('button', { name: /Mark OK/ }).count()).toBe(0);
    await checkPage(adminPage, 'course-accounts-admin-erred');
    await adminPage.close();
    await browser.context.clearCookies();

    const page = await newPage();
    await signIn(page, staff.row.username);
    await page.goto(`${base}/console/projects/${project.id}/course-accounts`);
    const row = page.locator('[data-testid=course-accounts] tr[data-state=ERRED]');
    await row.waitFor({ timeout: TIMEOUT });
    await row.getByRole('button', { name: /^Mark OK \(staff recovery\)/ }).click({ timeout: TIMEOUT });
    const reason = row.getByLabel(/Why is the account OK now/);
    expect(await reason.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await reason.fill('Closed upstream by hand');
    await checkPage(page, 'course-accounts-recovery');
    await row.getByRole('button', { name: 'Mark OK', exact: true }).click();
    await page
      .locator('[data-testid=course-accounts] tr[data-state=OK]', { hasText: email })
      .waitFor({ timeout: TIMEOUT });
    expect(await page.locator('[data-testid=course-accounts] tr[data-state=ERRED]').count()).toBe(0);
    const stored = await t.http.get(`/api/v1/course-accounts/${id}`).set(staff.auth).expect(200);
    expect(stored.body).toMatchObject({ state: 'OK', error_message: null });
    const audit = await t.http.get('/api/v1/audit-events').query({ subject_id: id }).set(staff.auth).expect(200);
    expect(JSON.stringify(audit.body.results)).toContain('Closed upstream by hand');
    await page.close();
  });

  it('changes a membership’s expiry with the keyboard: the new date shows and the API has it', async () => {
    const { project } = await course('Expiries');
    const group = await t.http
      .post('/api/v1/groups')
      .set(staff.auth)
      .send({ name: 'Tutors', scope_type: 'project', scope_id: project.id, role: 'project_contributor' })
      .expect(201);
    const tutor = await createUser(t);
    await t.http
      .post(`/api/v1/groups/${group.body.id}/members`)
      .set(staff.auth)
      .send({ principal_type: 'user', principal_id: tutor.row.id, expires_at: '2099-05-01T12:00:00.000Z' })
      .expect(201);
    const page = await newPage();
    await signIn(page, staff.row.username);
    await page.goto(`${base}/console/groups/${group.body.id}`);
    const row = page.locator(`tr[data-member-id="${tutor.row.id}"]`);
    const change = row.getByRole('button', { name: `Change expiry of ${tutor.row.username}` });
    await change.waitFor({ timeout: TIMEOUT });
    await change.focus();
    await page.keyboard.press('Enter');
    const field = row.getByLabel(`New expiry of ${tutor.row.username} (empty: never)`);
    expect(await field.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await checkPage(page, 'group-expiry');
    await field.fill('2099-08-20T15:45');
    await page.keyboard.press('Enter');
    const expected = (await page.evaluate(`new Date('2099-08-20T15:45').toISOString()`)) as string;
    await row.locator(`[data-testid=member-expires][data-expires="${expected}"]`).waitFor({ timeout: TIMEOUT });
    expect(await row.textContent()).toContain('2099');
    // Focus went back to the button that opened the form.
    expect(await change.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    const members = await t.http.get(`/api/v1/groups/${group.body.id}/members`).set(staff.auth).expect(200);
    expect(members.body.results).toEqual([
      expect.objectContaining({ principal_id: tutor.row.id, expires_at: new Date(expected).toISOString() }),
    ]);
    await checkPage(page, 'group-expiry-changed');
    expect(cspViolations).toEqual([]);
    await page.close();
  });
});
