import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Frame, Page, Request, Response } from 'playwright-core';
import { createOrganization, createStaff, unique } from '../factories/accounts';
import { Chromium, describeWithChromium, launchChromium } from '../utils/chromium';
import { closedPort } from '../utils/local-http';
import {
  LmsBrowserPlatform,
  LmsLaunch,
  startLmsBrowserPlatform,
  STORAGE_FRAME,
  TOOL_FRAME,
} from '../utils/lti-platform';
import { ToolBlock, toolUrlsOf } from '../utils/lti-registration';
import { REPO_ROOT } from '../utils/server-process';
import { createTestApp, TestApp } from '../utils/test-app';

const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership#';
const SCREENSHOTS = join(REPO_ROOT, 'test-results');
const LAUNCH_TIMEOUT_MS = 20_000;

/** What the browser did on one launch, as the page saw it. */
interface Recorded {
  toolRequests: { url: string; method: string; cookie: string | undefined }[];
  toolSetCookies: string[];
}

function record(page: Page, toolOrigin: string): Recorded {
  const recorded: Recorded = { toolRequests: [], toolSetCookies: [] };
  page.on('request', (request: Request) => {
    if (!request.url().startsWith(`${toolOrigin}/`)) return;
    // allHeaders() has what went on the wire, cookies included.
    void request
      .allHeaders()
      .then((headers) =>
        recorded.toolRequests.push({ url: request.url(), method: request.method(), cookie: headers.cookie }),
      );
  });
  page.on('response', (response: Response) => {
    if (!response.url().startsWith(`${toolOrigin}/`)) return;
    void response
      .headerValues('set-cookie')
      .then((values) => recorded.toolSetCookies.push(...values.flatMap((v) => v.split('\n'))));
  });
  return recorded;
}

/** The frame the tool runs in, once it has landed on the target (the console's LTI landing page). */
async function launchedToolFrame(page: Page, target: string): Promise<Frame> {
  const frame = page.frame({ name: TOOL_FRAME });
  if (!frame) throw new Error('the course page has no tool frame');
  await frame.waitForURL((url) => url.toString().startsWith(target), { timeout: LAUNCH_TIMEOUT_MS });
  return frame;
}

/** What the landing page shows once it has exchanged the launch id (its token stays in the page's memory). */
interface Landed {
  state: string;
  username: string | undefined;
  email: string | undefined;
  course: string | undefined;
  role: string | undefined;
}

async function landedInFrame(frame: Frame): Promise<Landed> {
  await frame.waitForSelector('#status[data-state=signed-in], #status[data-state=failed]', {
    timeout: LAUNCH_TIMEOUT_MS,
  });
  const text = async (selector: string) =>
    (await frame.locator(selector).count()) ? ((await frame.textContent(selector)) ?? undefined) : undefined;
  const status = (await frame.textContent('#status')) ?? '';
  return {
    state: (await frame.getAttribute('#status', 'data-state')) ?? '',
    username: /Signed in as (.+)\.$/.exec(status)?.[1],
    email: await text('[data-testid=lti-email]'),
    course: await text('[data-testid=lti-course]'),
    role: (await frame.getAttribute('[data-testid=lti-role]', 'data-role')) ?? undefined,
  };
}

/** The launch id the target was opened with: the page takes it out of its address once read. */
function launchIdOf(recorded: Recorded, target: string): string {
  const landing = recorded.toolRequests.find((r) => r.method === 'GET' && r.url.startsWith(`${target}?`));
  const id = landing ? new URL(landing.url).searchParams.get('launch_id') : null;
  if (!id) throw new Error('the target was not opened with a launch_id');
  return id;
}

/** A second exchange of the launch id, from the same page. */
async function exchangeAgain(frame: Frame, launchId: string): Promise<{ status: number; error: string | undefined }> {
  return frame.evaluate(
    `fetch('/api/v1/lti/launches/' + encodeURIComponent(${JSON.stringify(launchId)}) + '/exchange', { method: 'POST' })
       .then((r) => r.json().then((body) => ({ status: r.status, error: body.error })))`,
  );
}

describeWithChromium('LTI 1.3 launches in Chromium, the tool embedded in an LMS page of another site', () => {
  let t: TestApp;
  let base: string;
  let lms: LmsBrowserPlatform;
  let tool: ToolBlock;
  let staff: { Authorization: string };
  const browsers: Chromium[] = [];

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    // The tool's real origin, known before it starts, so that every URL it hands out is built from it.
    const port = await closedPort();
    base = `http://127.0.0.1:${port}`;
    t = await createTestApp({ settings: { PUBLIC_URL: base } });
    await t.app.listen(port, '127.0.0.1');
    lms = await startLmsBrowserPlatform({ host: '127.0.0.2' });
    staff = (await createStaff(t)).auth;
    const org = await createOrganization(t);
    const res = await t.http
      .post('/api/v1/lti/platforms')
      .set(staff)
      .send({
        organization: org.id,
        name: 'Browser LMS',
        issuer: lms.issuer,
        client_id: lms.clientId,
        auth_login_url: lms.authLoginUrl,
        auth_token_url: lms.authTokenUrl,
        jwks_url: lms.jwksUrl,
        deployment_ids: [lms.deploymentId],
      });
    expect(res.status).toBe(201);
    tool = res.body.tool as ToolBlock;
    lms.registerTool(toolUrlsOf(tool));
  });
  afterEach(async () => {
    for (const browser of browsers.splice(0)) await browser.close();
  });
  afterAll(async () => {
    await t?.close();
    await lms?.close();
  });

  function learner(overrides: Partial<LmsLaunch> = {}): LmsLaunch {
    const id = unique('browser');
    return {
      sub: `sub-${id}`,
      givenName: 'Grace',
      familyName: 'Hopper',
      name: 'Grace Hopper',
      email: `${id}@example.edu`,
      roles: [`${MEMBERSHIP}Learner`],
      context: { id: `ctx-${id}`, title: `Compilers ${id}`, label: 'CS101' },
      resourceLink: { id: `link-${id}`, title: 'Lab account' },
      ...overrides,
    };
  }

  it('hands out URLs built from PUBLIC_URL, the origin the browser reaches it on', () => {
    expect(tool).toMatchObject({
      login_initiation_url: `${base}/lti/login`,
      redirect_url: `${base}/lti/launch`,
      jwks_url: `${base}/lti/jwks.json`,
    });
    expect(tool.target_link_url.startsWith(`${base}/`)).toBe(true);
  });

  it('signs a learner in through the state cookie when the browser keeps partitioned third-party cookies', async () => {
    const browser = await launchChromium();
    browsers.push(browser);
    const page = await browser.context.newPage();
    const recorded = record(page, base);
    const launch = learner();

    await page.goto(lms.coursePage(launch));
    const frame = await launchedToolFrame(page, tool.target_link_url);
    const landed = await landedInFrame(frame);
    await page.screenshot({ path: join(SCREENSHOTS, 'lti-browser-with-cookies.png'), fullPage: true });

    expect(landed).toEqual({
      state: 'signed-in',
      username: expect.any(String),
      email: launch.email,
      course: launch.context!.title,
      role: 'project_member',
    });
    // The launch went through the cookie: the browser kept the tool's cookie (partitioned under the
    // LMS site) and sent it with the one form post of the id_token.
    const posted = recorded.toolRequests.filter((r) => r.method === 'POST' && r.url === tool.redirect_url);
    expect(posted).toHaveLength(1);
    expect(posted[0].cookie).toMatch(/=/);

    // The launch_id was good for one exchange, and the session is the learner's.
    expect(await exchangeAgain(frame, launchIdOf(recorded, tool.target_link_url))).toMatchObject({ status: 400 });
    const users = await t.http.get('/api/v1/users').query({ search: launch.email! }).set(staff);
    expect(users.body.results.map((u: { username: string }) => u.username)).toEqual([landed.username]);
  });

  it('signs an instructor in through the platform storage frame when third-party cookies are blocked', async () => {
    const browser = await launchChromium({ blockThirdPartyCookies: [{ site: base, embeddedIn: lms.origin }] });
    browsers.push(browser);
    const page = await browser.context.newPage();
    const recorded = record(page, base);
    const launch = learner({ roles: [`${MEMBERSHIP}Instructor`] });

    await page.goto(lms.coursePage(launch));
    const frame = await launchedToolFrame(page, tool.target_link_url);
    const landed = await landedInFrame(frame);
    await page.screenshot({ path: join(SCREENSHOTS, 'lti-browser-cookies-blocked.png'), fullPage: true });

    expect(landed).toMatchObject({
      state: 'signed-in',
      email: launch.email,
      course: launch.context!.title,
      role: 'project_manager',
    });
    // The tool offered its state cookie, the browser refused it: nothing stored, nothing sent.
    expect(recorded.toolSetCookies.some((c) => /SameSite=None/i.test(c))).toBe(true);
    const toolHost = new URL(base).hostname;
    expect((await browser.context.cookies()).filter((c) => c.domain === toolHost)).toEqual([]);
    expect(recorded.toolRequests.length).toBeGreaterThan(0);
    expect(recorded.toolRequests.filter((r) => r.cookie !== undefined)).toEqual([]);
    // The id_token's form post got the storage page, which posted the launch again with the value
    // read back from the platform.
    const posted = recorded.toolRequests.filter((r) => r.method === 'POST' && r.url === tool.redirect_url);
    expect(posted).toHaveLength(2);
    // What bound the browser to its login instead: the tool stored a value in the platform's storage
    // frame at login and read it back at launch, from its own origin.
    const messages = (await page.frame({ name: STORAGE_FRAME })!.evaluate('window.ltiMessages')) as {
      subject: string;
      origin: string;
      key: string | null;
    }[];
    const fromTool = messages.filter((m) => m.origin === new URL(base).origin);
    const put = fromTool.filter((m) => m.subject === 'lti.put_data');
    const got = fromTool.filter((m) => m.subject === 'lti.get_data');
    expect(put.length).toBeGreaterThan(0);
    expect(got.length).toBeGreaterThan(0);
    // Every key read back was stored by this login.
    expect(put.map((m) => m.key)).toEqual(expect.arrayContaining(got.map((m) => m.key)));
  });

  it('refuses the launch when third-party cookies are blocked and the platform offers no storage', async () => {
    const browser = await launchChromium({ blockThirdPartyCookies: [{ site: base, embeddedIn: lms.origin }] });
    browsers.push(browser);
    const page = await browser.context.newPage();
    await page.goto(lms.coursePage(learner(), { storage: false }));
    const frame = page.frame({ name: TOOL_FRAME })!;
    // The id_token reaches the tool, which cannot tell this browser started the login.
    await frame.waitForURL((url) => url.toString().startsWith(tool.redirect_url), { timeout: LAUNCH_TIMEOUT_MS });
    await frame.waitForLoadState('load');
    const reason = await frame.getAttribute('main[data-lti-reason]', 'data-lti-reason', {
      timeout: LAUNCH_TIMEOUT_MS,
    });
    await page.screenshot({ path: join(SCREENSHOTS, 'lti-browser-no-storage-refused.png'), fullPage: true });
    expect(reason).toBe('missing_state_cookie');
    expect(new URL(frame.url()).searchParams.has('launch_id')).toBe(false);
  });
});
