import { DataSource } from 'typeorm';
import { createOrganization, createStaff } from '../factories/accounts';
import { AgsClient } from '../../src/lti/services/ags/ags.client';
import { LtiGradeSource } from '../../src/lti/services/ags/lti-grade-source';
import { PlatformTokens } from '../../src/lti/services/platform-tokens/platform-tokens.service';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { launchAndExchange, TOOL_URL } from '../utils/lti-launch';
import { LtiPlatformSimulator, ROLE, startLtiPlatform } from '../utils/lti-platform';
import { AGS, AGS_CLAIM, LtiServicesPlatform, startLtiServicesPlatform } from '../utils/lti-services-platform';
import { createTestApp, TestApp } from '../utils/test-app';

interface Session {
  access_token: string;
  user: { id: string };
  link: string;
  context: string;
  project: { id: string; organization: string } | null;
}

describe('LTI AGS: grades back to the LMS', () => {
  let t: TestApp;
  let lms: LtiPlatformSimulator;
  let services: LtiServicesPlatform;
  let platformId: string;
  let organizationId: string;

  beforeAll(async () => {
    t = await createTestApp({
      settings: {
        PUBLIC_URL: TOOL_URL,
        ...jobSettings('in-process', { JOB_RETRY_BACKOFF_MS: '50' }),
        LTI_SCORE_MAX_ATTEMPTS: '4',
      },
    });
    lms = await startLtiPlatform();
    services = await startLtiServicesPlatform({
      clientId: lms.clientId,
      toolJwks: async () => (await t.http.get('/lti/jwks.json')).body,
    });
    const staff = await createStaff(t);
    organizationId = (await createOrganization(t)).id;
    const res = await t.http
      .post('/api/v1/lti/platforms')
      .set(staff.auth)
      .send(lms.registration(organizationId, { auth_token_url: services.tokenUrl }));
    expect(res.status).toBe(201);
    platformId = res.body.id;
  });
  afterAll(async () => {
    await services?.close();
    await lms?.close();
    await t?.close();
  });

  /** An instructor and a learner launched into a context whose link has the AGS claim. */
  async function course(context: string, ags: Record<string, unknown> | null = services.agsClaim(context)) {
    const resourceLink = { id: `rl-${context}`, title: `Lab of ${context}` };
    const claims = ags ? { [AGS_CLAIM]: ags } : {};
    const instructor = (
      await launchAndExchange(t, lms, { roles: [ROLE.instructor], context: { id: context }, resourceLink, claims })
    ).session as unknown as Session;
    const learnerSub = `learner-${context}`;
    const learner = (
      await launchAndExchange(t, lms, {
        sub: learnerSub,
        roles: [ROLE.learner],
        context: { id: context },
        resourceLink,
        claims,
      })
    ).session as unknown as Session;
    return { instructor, learner, learnerSub, auth: { Authorization: `Bearer ${instructor.access_token}` } };
  }

  const scoreBody = (user: string, given = 7) => ({
    user,
    score_given: given,
    score_maximum: 10,
    activity_progress: 'Completed',
    grading_progress: 'FullyGraded',
    comment: 'Good work',
  });

  async function delivered(auth: Record<string, string>, id: string, state = 'delivered') {
    let last: unknown;
    return waitFor(
      async () => {
        const res = await t.http.get(`/api/v1/lti/scores/${id}`).set(auth);
        last = res.body;
        if (res.body.state === state) return res.body;
        const job = await t.http.get(`/api/v1/jobs/${res.body.job}`).set(auth);
        last = { score: res.body, job: job.body };
        return null;
      },
      15_000,
      `score ${id} ${state}`,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(last)}`);
    });
  }

  it('posts scores through a job with one token for many, as score+json a strict platform accepts', async () => {
    const c = await course('ctx-many');
    expect(c.instructor.link).toEqual(expect.any(String));
    const before = services.tokenRequests;
    // One after the other: the platform refuses a score older than the user's last one.
    const posted = [];
    for (const n of [1, 2, 3, 4, 5]) {
      const res = await t.http
        .post(`/api/v1/lti/links/${c.instructor.link}/scores`)
        .set(c.auth)
        .send(scoreBody(c.learner.user.id, n));
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        state: 'pending',
        link: c.instructor.link,
        user: c.learner.user.id,
        job: expect.any(String),
      });
      await delivered(c.auth, res.body.id);
      posted.push(res);
    }
    expect(services.tokenRequests - before).toBe(1);
    expect(services.scoreRefusals).toEqual([]);
    const [item] = services.lineItems('ctx-many');
    // No `lineitem` in the claim: the job made one for the resource link, then posted to it.
    expect(item).toMatchObject({ resourceLinkId: 'rl-ctx-many', scoreMaximum: 10 });
    expect(item.scores).toHaveLength(5);
    expect(item.scores[0]).toMatchObject({
      userId: c.learnerSub,
      scoreMaximum: 10,
      activityProgress: 'Completed',
      gradingProgress: 'FullyGraded',
      comment: 'Good work',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    const answer = await t.http.get(`/api/v1/lti/scores/${posted[0].body.id}`).set(c.auth);
    expect(answer.body).toMatchObject({ state: 'delivered', platform_status: 200, attempts: 1, line_item: item.id });
  });

  it('a 401 from the service drops the cached token and fetches one more, once', async () => {
    const c = await course('ctx-401', services.agsClaim('ctx-401', { lineitem: true }));
    const first = await t.http
      .post(`/api/v1/lti/links/${c.instructor.link}/scores`)
      .set(c.auth)
      .send(scoreBody(c.learner.user.id));
    await delivered(c.auth, first.body.id);
    const before = services.tokenRequests;
    services.revokeTokens();
    const res = await t.http
      .post(`/api/v1/lti/links/${c.instructor.link}/scores`)
      .set(c.auth)
      .send(scoreBody(c.learner.user.id, 9));
    const score = await delivered(c.auth, res.body.id);
    expect(score.attempts).toBe(1);
    expect(services.tokenRequests - before).toBe(1);
    const scoreCalls = services.calls.filter((x) => x.path.endsWith('/scores') && x.path.includes('ctx-401'));
    expect(scoreCalls.map((x) => x.status)).toEqual([200, 401, 200]);
  });

  it('a 500 makes the job retry with backoff until the platform takes the score', async () => {
    const c = await course('ctx-500', services.agsClaim('ctx-500', { lineitem: true }));
    services.failNext('scores', 500, 2);
    const res = await t.http
      .post(`/api/v1/lti/links/${c.instructor.link}/scores`)
      .set(c.auth)
      .send(scoreBody(c.learner.user.id));
    const score = await delivered(c.auth, res.body.id);
    expect(score.attempts).toBe(3);
    const job = await t.http.get(`/api/v1/jobs/${res.body.job}`).set(c.auth);
    expect(job.body).toMatchObject({ state: 'Succeeded', attempts: 3 });
  });

  it('429 is retried too; a refusal (422) fails the score at once with the platform’s answer', async () => {
    const c = await course('ctx-422', services.agsClaim('ctx-422', { lineitem: true }));
    services.failNext('scores', 429, 1);
    const retried = await t.http
      .post(`/api/v1/lti/links/${c.instructor.link}/scores`)
      .set(c.auth)
      .send(scoreBody(c.learner.user.id));
    expect((await delivered(c.auth, retried.body.id)).attempts).toBe(2);
    services.failNext('scores', 422, 1);
    const refused = await t.http
      .post(`/api/v1/lti/links/${c.instructor.link}/scores`)
      .set(c.auth)
      .send(scoreBody(c.learner.user.id));
    const failed = await delivered(c.auth, refused.body.id, 'failed');
    expect(failed).toMatchObject({
      attempts: 1,
      platform_status: 422,
      platform_answer: expect.stringContaining('simulated 422'),
    });
  });

  it('out of attempts the score is failed with the last answer', async () => {
    const c = await course('ctx-down', services.agsClaim('ctx-down', { lineitem: true }));
    services.failNext('scores', 503, 4);
    const res = await t.http
      .post(`/api/v1/lti/links/${c.instructor.link}/scores`)
      .set(c.auth)
      .send(scoreBody(c.learner.user.id));
    const failed = await delivered(c.auth, res.body.id, 'failed');
    expect(failed).toMatchObject({ attempts: 4, platform_status: 503 });
  });

  it('refuses bad scores, learners, users the LMS never launched, and links without AGS', async () => {
    const c = await course('ctx-refusals');
    const url = `/api/v1/lti/links/${c.instructor.link}/scores`;
    const over = await t.http.post(url).set(c.auth).send(scoreBody(c.learner.user.id, 11));
    expect(over.status).toBe(400);
    expect(over.body.error).toBe('invalid_score');
    const badProgress = await t.http
      .post(url)
      .set(c.auth)
      .send({ ...scoreBody(c.learner.user.id), activity_progress: 'Done' });
    expect(badProgress.status).toBe(400);
    const learner = await t.http
      .post(url)
      .set('Authorization', `Bearer ${c.learner.access_token}`)
      .send(scoreBody(c.learner.user.id));
    // Learners hold no score right: the link is invisible to them as a score subject.
    expect(learner.status).toBe(404);
    const stranger = await createStaff(t);
    const unknown = await t.http.post(url).set(c.auth).send(scoreBody(stranger.row.id));
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toBe('user_not_on_platform');
    const malformed = await t.http
      .post('/api/v1/lti/links/not-a-uuid/scores')
      .set(c.auth)
      .send(scoreBody(c.learner.user.id));
    expect(malformed.status).toBe(400);
    const plain = await course('ctx-no-ags', null);
    const noAgs = await t.http
      .post(`/api/v1/lti/links/${plain.instructor.link}/scores`)
      .set(plain.auth)
      .send(scoreBody(plain.learner.user.id));
    expect(noAgs.status).toBe(422);
    expect(noAgs.body.error).toBe('no_grade_service');
    // Another course's instructor does not see this link.
    const other = await course('ctx-other');
    const foreign = await t.http.post(url).set(other.auth).send(scoreBody(c.learner.user.id));
    expect(foreign.status).toBe(404);
  });

  it('lists, creates, updates and deletes line items over the platform’s API', async () => {
    const c = await course('ctx-items');
    const made = await t.http
      .post(`/api/v1/lti/links/${c.instructor.link}/line-items`)
      .set(c.auth)
      .send({ label: 'Quiz', score_maximum: 20, tag: 'quiz' });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      label: 'Quiz',
      score_maximum: 20,
      resource_link_id: 'rl-ctx-items',
      tag: 'quiz',
    });
    const list = await t.http.get(`/api/v1/lti/links/${c.instructor.link}/line-items`).set(c.auth);
    expect(list.status).toBe(200);
    expect(list.body.map((i: { id: string }) => i.id)).toEqual([made.body.id]);

    const ags = t.app.get(AgsClient);
    const platform = { id: platformId, clientId: lms.clientId, authTokenUrl: services.tokenUrl };
    const endpoint = { lineitems: `${services.origin}/contexts/ctx-items/lineitems`, scope: [AGS.lineItem] };
    const updated = await ags.updateLineItem(platform, endpoint, made.body.id, { label: 'Quiz 1', scoreMaximum: 25 });
    expect(updated).toMatchObject({ label: 'Quiz 1', scoreMaximum: 25 });
    await ags.deleteLineItem(platform, endpoint, made.body.id);
    expect(services.lineItems('ctx-items')).toEqual([]);
  });

  it('reads results back, stores them, and gives the Registrar its grades', async () => {
    const c = await course('ctx-results', services.agsClaim('ctx-results', { lineitem: true }));
    const res = await t.http
      .post(`/api/v1/lti/links/${c.instructor.link}/scores`)
      .set(c.auth)
      .send(scoreBody(c.learner.user.id, 8));
    await delivered(c.auth, res.body.id);
    const results = await t.http.get(`/api/v1/lti/links/${c.instructor.link}/results`).set(c.auth);
    expect(results.status).toBe(200);
    expect(results.body).toEqual([
      expect.objectContaining({
        lti_user_id: c.learnerSub,
        user: c.learner.user.id,
        result_score: 8,
        result_maximum: 10,
      }),
    ]);
    const [stored] = await t.app
      .get(DataSource)
      .query('SELECT result_score FROM lti_results WHERE user_id = $1', [c.learner.user.id]);
    expect(stored.result_score).toBe(8);
    const grades = await t.app
      .get(LtiGradeSource)
      .gradesFor({ organizationId, programId: 'p', programCourseId: 'pc', courseId: 'ctx-results' }, [
        { studentKey: 'student-1', userId: c.learner.user.id },
      ]);
    expect(grades.get('student-1')).toEqual({ letterGrade: null, percent: 0.8, passed: null });
    const elsewhere = await t.app.get(LtiGradeSource).gradesFor(
      {
        organizationId: '00000000-0000-4000-8000-000000000000',
        programId: 'p',
        programCourseId: 'pc',
        courseId: 'ctx-results',
      },
      [{ studentKey: 'student-1', userId: c.learner.user.id }],
    );
    expect(elsewhere.size).toBe(0);
  });

  it('caches a token per scope set until shortly before it expires', async () => {
    const tokens = t.app.get(PlatformTokens);
    const platform = { id: platformId, clientId: lms.clientId, authTokenUrl: services.tokenUrl };
    const before = services.tokenRequests;
    const [a, b] = await Promise.all([tokens.token(platform, [AGS.score]), tokens.token(platform, [AGS.score])]);
    expect(a).toBe(b);
    expect(await tokens.token(platform, [AGS.score])).toBe(a);
    const other = await tokens.token(platform, [AGS.score, AGS.result]);
    expect(other).not.toBe(a);
    expect(services.tokenRequests - before).toBe(2);
  });
});
