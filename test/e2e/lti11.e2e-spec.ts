import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { createOrganization, createStaff, createUser } from '../factories/accounts';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { reasonOf, TOOL_URL } from '../utils/lti-launch';
import { FakeOutcomeService, formBody, signLaunch, SignOptions, startOutcomeService } from '../utils/lti11-consumer';
import { createTestApp, TestApp } from '../utils/test-app';
import { TEST_REDIS_URL } from '../utils/test-databases';
import { OutcomesClient } from '../../src/lti/v1p1/outcomes/outcomes.client';

const LAUNCH_URL = `${TOOL_URL}/lti/1.1/launch`;
const LEARNER = 'urn:lti:role:ims/lis/Learner';

interface Consumer {
  id: string;
  consumer_key: string;
  consumer_secret: string;
  instance_guid: string | null;
}

describe('LTI 1.1 provider', () => {
  let t: TestApp;
  let staff: Awaited<ReturnType<typeof createStaff>>;
  let orgId: string;
  let consumer: Consumer;
  let outcomes: FakeOutcomeService;
  let seq = 0;

  const uid = (p: string) => `${p}-${++seq}-${Math.random().toString(36).slice(2, 7)}`;

  async function newConsumer(body: Record<string, unknown> = {}): Promise<Consumer> {
    const res = await t.http
      .post('/api/v1/lti/consumers')
      .set(staff.auth)
      .send({ organization: orgId, consumer_name: uid('Moodle'), ...body });
    expect(res.status).toBe(201);
    return res.body as Consumer;
  }

  /** The LTI parameters of a plain learner launch; override or add with `extra`. */
  function params(extra: Record<string, string> = {}): [string, string][] {
    return Object.entries({
      lti_message_type: 'basic-lti-launch-request',
      lti_version: 'LTI-1p0',
      resource_link_id: 'rl-1',
      user_id: uid('user'),
      roles: LEARNER,
      context_id: 'ctx-1',
      context_title: 'Analytical Engines',
      ...extra,
    });
  }

  function post(fields: [string, string][], query = '') {
    return t.http
      .post(`/lti/1.1/launch${query}`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(formBody(fields));
  }

  function launch(fields: [string, string][], o: SignOptions & { query?: string; with?: Consumer } = {}) {
    const c = o.with ?? consumer;
    const query = o.query ?? '';
    return post(signLaunch(`${LAUNCH_URL}${query}`, fields, c.consumer_key, c.consumer_secret, o), query);
  }

  async function exchange(location: string) {
    const launchId = new URL(location).searchParams.get('launch_id');
    const res = await t.http.post(`/api/v1/lti/launches/${launchId}/exchange`);
    expect(res.status).toBe(200);
    return res.body as {
      access_token: string;
      user: { id: string; username: string; first_name: string; last_name: string; email: string | null };
      project: { id: string; name: string } | null;
      role: string | null;
      claims: Record<string, unknown>;
    };
  }

  async function launchAndExchange(fields: [string, string][], o: SignOptions & { query?: string } = {}) {
    const res = await launch(fields, o);
    expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status: 303, reason: undefined });
    // Without custom_target a launch lands on the tool's default target link, the console's LTI page.
    expect(res.headers.location).toMatch(new RegExp(`^${TOOL_URL}/console/lti\\?launch_id=`));
    return exchange(res.headers.location as string);
  }

  async function refused(res: { status: number; text: string }, status: number, reason: string) {
    expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status, reason });
    await waitFor(async () => t.logs.some((l) => l.includes(`"lti_reason":"${reason}"`)), 5000, `log of ${reason}`);
  }

  beforeAll(async () => {
    t = await createTestApp({
      settings: { PUBLIC_URL: TOOL_URL, ...jobSettings('in-process', { JOB_RETRY_BACKOFF_MS: '100' }) },
    });
    staff = await createStaff(t);
    orgId = (await createOrganization(t)).id;
    consumer = await newConsumer();
    outcomes = await startOutcomeService(() => consumer.consumer_secret);
  });
  afterAll(async () => {
    await outcomes?.close();
    await t?.close();
  });

  describe('consumers', () => {
    it('shows the secret once, stores it encrypted, and hands out the launch URL', async () => {
      const created = await newConsumer({ consumer_key: uid('key') });
      expect(created.consumer_secret).toMatch(/^[\w-]{40,}$/);
      expect(created).toMatchObject({ tool: { launch_url: LAUNCH_URL, consumer_key: created.consumer_key } });
      const read = await t.http.get(`/api/v1/lti/consumers/${created.id}`).set(staff.auth);
      expect(read.status).toBe(200);
      expect(read.body.consumer_secret).toBeUndefined();
      expect(JSON.stringify(read.body)).not.toContain(created.consumer_secret);
      const [row] = await t.app
        .get(DataSource)
        .query('SELECT consumer_secret FROM lti_consumers WHERE id = $1', [created.id]);
      expect(row.consumer_secret).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(row.consumer_secret).not.toContain(created.consumer_secret);
      const list = await t.http.get('/api/v1/lti/consumers').set(staff.auth).query({ organization: orgId });
      expect(list.body.results.map((c: Consumer) => c.id)).toContain(created.id);
    });

    it('refuses a duplicate name or key (409)', async () => {
      const a = await newConsumer({ consumer_key: uid('dup') });
      const res = await t.http
        .post('/api/v1/lti/consumers')
        .set(staff.auth)
        .send({ organization: orgId, consumer_name: uid('other'), consumer_key: a.consumer_key });
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('duplicate_consumer');
    });

    it('rotating the secret answers the new one once; the old one stops verifying', async () => {
      const c = await newConsumer();
      expect((await launch(params(), { with: c })).status).toBe(303);
      const rotated = await t.http.post(`/api/v1/lti/consumers/${c.id}/rotate-secret`).set(staff.auth);
      expect(rotated.status).toBe(200);
      expect(rotated.body.consumer_secret).not.toBe(c.consumer_secret);
      await refused(await launch(params(), { with: c }), 401, 'bad_signature');
      expect((await launch(params(), { with: { ...c, consumer_secret: rotated.body.consumer_secret } })).status).toBe(
        303,
      );
    });

    it('a deleted consumer’s launches are refused', async () => {
      const c = await newConsumer();
      expect((await t.http.delete(`/api/v1/lti/consumers/${c.id}`).set(staff.auth)).status).toBe(204);
      await refused(await launch(params(), { with: c }), 401, 'unknown_consumer');
      expect((await t.http.get(`/api/v1/lti/consumers/${c.id}`).set(staff.auth)).status).toBe(404);
    });

    it('supplements the instance guid from the first launch that carries it, then finds the consumer by it', async () => {
      const c = await newConsumer();
      expect(c.instance_guid).toBeNull();
      const guid = uid('moodle.example.edu');
      expect((await launch(params({ tool_consumer_instance_guid: guid }), { with: c })).status).toBe(303);
      const read = await t.http.get(`/api/v1/lti/consumers/${c.id}`).set(staff.auth);
      expect(read.body.instance_guid).toBe(guid);
      expect((await launch(params({ tool_consumer_instance_guid: guid }), { with: c })).status).toBe(303);
      // The guid names the consumer: another consumer's key with it is not that consumer.
      const other = await newConsumer();
      await refused(
        await launch(params({ tool_consumer_instance_guid: guid }), { with: other }),
        401,
        'unknown_consumer',
      );
    });
  });

  describe('launch', () => {
    it('signs a learner in: signed form post → 303 → exchange, with the user, course project and role', async () => {
      const userId = uid('learner');
      const fields = params({
        user_id: userId,
        context_id: uid('ctx'),
        context_title: 'Differential Engines',
        lis_person_name_given: 'Ada',
        lis_person_name_family: 'Lovelace',
        lis_person_contact_email_primary: 'ada@example.edu',
        custom_week: '3',
        launch_presentation_return_url: 'https://lms.example.edu/return',
      });
      const session = await launchAndExchange(fields);
      expect(session).toMatchObject({
        role: 'project_member',
        project: { name: 'Differential Engines' },
        user: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.edu' },
        claims: { message_type: 'basic-lti-launch-request', custom: { week: '3' } },
      });
      const me = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${session.access_token}`);
      expect(me.status).toBe(200);
      expect(JSON.stringify(me.body)).toContain(session.user.id);
      // The same LMS user and course again: the same account and project.
      const again = await launchAndExchange(
        fields.map(([k, v]) => [k, k === 'resource_link_id' ? 'rl-2' : v] as [string, string]),
      );
      expect(again.user.id).toBe(session.user.id);
      expect(again.project!.id).toBe(session.project!.id);
    });

    it.each([
      ['Instructor', 'project_manager'],
      ['instructor', 'project_manager'],
      ['urn:lti:role:ims/lis/Instructor', 'project_manager'],
      ['TeachingAssistant', 'project_contributor'],
      ['urn:lti:role:ims/lis/Instructor/TeachingAssistant,Instructor', 'project_contributor'],
      ['Mentor', 'project_contributor'],
      ['ContentDeveloper', 'project_manager'],
      ['Learner', 'project_member'],
      ['urn:lti:instrole:ims/lis/Administrator', 'project_member'],
      ['http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor', 'project_manager'],
      ['', 'project_member'],
      ['urn:example:unknown', 'project_member'],
    ])('maps roles %j to %s through the LTI 1.3 mapping', async (roles, role) => {
      const session = await launchAndExchange(params({ roles, context_id: uid('ctx') }));
      expect(session.role).toBe(role);
    });

    it('a launch that no longer carries Instructor demotes; consumer role_mappings override', async () => {
      const context = uid('ctx');
      const user = uid('u');
      expect((await launchAndExchange(params({ roles: 'Instructor', context_id: context, user_id: user }))).role).toBe(
        'project_manager',
      );
      expect((await launchAndExchange(params({ roles: 'Learner', context_id: context, user_id: user }))).role).toBe(
        'project_member',
      );
      const mapped = await newConsumer({ role_mappings: { Learner: 'project_contributor' } });
      const res = await launch(params({ context_id: uid('ctx') }), { with: mapped });
      expect((await exchange(res.headers.location as string)).role).toBe('project_contributor');
    });

    it('10 concurrent first launches of the same user into the same course make one user and one project', async () => {
      const fields = params({ user_id: uid('crowd'), context_id: uid('ctx'), roles: 'Instructor' });
      const answers = await Promise.all(Array.from({ length: 10 }, () => launch(fields)));
      expect(answers.map((r) => r.status)).toEqual(Array(10).fill(303));
      const sessions = await Promise.all(answers.map((r) => exchange(r.headers.location as string)));
      expect(new Set(sessions.map((x) => x.user.id)).size).toBe(1);
      expect(new Set(sessions.map((x) => x.project!.id)).size).toBe(1);
      expect(new Set(sessions.map((x) => x.role))).toEqual(new Set(['project_manager']));
    });

    it('a launch without context signs in with no course role', async () => {
      const session = await launchAndExchange(params().filter(([k]) => !k.startsWith('context_')));
      expect(session).toMatchObject({ project: null, role: null });
    });

    it('switches a signed-in browser to the LTI user: the launch ignores its credentials, the exchange answers the LTI user', async () => {
      const other = await createUser(t);
      const c = consumer;
      const res = await post(signLaunch(LAUNCH_URL, params(), c.consumer_key, c.consumer_secret)).set(other.auth);
      expect(res.status).toBe(303);
      const session = await exchange(res.headers.location as string);
      expect(session.user.id).not.toBe(other.row.id);
      const me = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${session.access_token}`);
      expect(JSON.stringify(me.body)).toContain(session.user.id);
      expect(JSON.stringify(me.body)).not.toContain(other.row.id);
    });

    it('accepts: query string on the launch URL, unicode, spaces and "+", repeated free parameters, no oauth_version, a differently-cased URL, a custom target of ours', async () => {
      await launchAndExchange(params({ custom_note: 'a+b c%20d' }), { query: '?tenant=a&tenant=b&x=%2B' });
      const uni = await launchAndExchange(
        params({ lis_person_name_given: 'Zoë', lis_person_name_family: 'Łukasiewicz 李', context_id: uid('ctx') }),
      );
      expect(uni.user).toMatchObject({ first_name: 'Zoë', last_name: 'Łukasiewicz 李' });
      await launchAndExchange([...params(), ['ext_tag', 'b'], ['ext_tag', 'a']]);
      await launchAndExchange(params(), { version: null });
      await launchAndExchange(params(), { signedUrl: 'HTTPS://TOOL.Example.TEST:443/lti/1.1/launch' });
      const res = await launch(params({ custom_target: `${TOOL_URL}/lti/app?view=grades` }));
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(new RegExp(`^${TOOL_URL}/lti/app\\?view=grades&launch_id=`));
    });

    describe('refusals (each with its reason, never a 500)', () => {
      const now = () => Math.floor(Date.now() / 1000);
      it('timestamp 301 s old or 301 s ahead', async () => {
        await refused(await launch(params(), { timestamp: now() - 301 }), 401, 'timestamp_out_of_window');
        await refused(await launch(params(), { timestamp: now() + 301 }), 401, 'timestamp_out_of_window');
        expect((await launch(params(), { timestamp: now() - 280 })).status).toBe(303);
        expect((await launch(params(), { timestamp: now() + 280 })).status).toBe(303);
      });
      it('nonce replay: the same form post again, and the same nonce in a new form', async () => {
        const form = signLaunch(LAUNCH_URL, params(), consumer.consumer_key, consumer.consumer_secret);
        expect((await post(form)).status).toBe(303);
        await refused(await post(form), 401, 'nonce_replayed');
        const nonce = form.find(([k]) => k === 'oauth_nonce')![1];
        await refused(await launch(params(), { nonce }), 401, 'nonce_replayed');
        // Nonces are per consumer: another consumer may use the same one.
        const other = await newConsumer();
        expect((await launch(params(), { nonce, with: other })).status).toBe(303);
      });
      it('wrong secret, unknown key, tampered parameter, signed for an internal URL', async () => {
        await refused(await launch(params(), { secret: 'not-the-secret' }), 401, 'bad_signature');
        await refused(
          await launch(params(), { with: { ...consumer, consumer_key: 'nobody' } }),
          401,
          'unknown_consumer',
        );
        const form = signLaunch(
          LAUNCH_URL,
          params({ roles: 'Learner' }),
          consumer.consumer_key,
          consumer.consumer_secret,
        );
        await refused(
          await post(form.map(([k, v]) => [k, k === 'roles' ? 'Instructor' : v] as [string, string])),
          401,
          'bad_signature',
        );
        await refused(
          await launch(params(), { signedUrl: 'http://127.0.0.1:3000/lti/1.1/launch' }),
          401,
          'bad_signature',
        );
        await refused(await launch(params(), { query: '?a=1', signedUrl: LAUNCH_URL }), 401, 'bad_signature');
      });
      it('missing or wrong parameters', async () => {
        const without = (name: string) => params().filter(([k]) => k !== name);
        await refused(await launch(without('user_id')), 400, 'missing_user_id');
        await refused(await launch(without('resource_link_id')), 400, 'missing_resource_link_id');
        await refused(
          await launch(params({ lti_message_type: 'ContentItemSelectionRequest' })),
          400,
          'unsupported_message_type',
        );
        await refused(await launch(params({ lti_version: 'LTI-2p0' })), 400, 'wrong_lti_version');
        await refused(await launch(params(), { method: 'PLAINTEXT' }), 400, 'unsupported_signature_method');
        await refused(await launch(params(), { version: '2.0' }), 400, 'wrong_oauth_version');
        await refused(await launch([...params(), ['user_id', 'someone-else']]), 400, 'invalid_parameter');
        await refused(await launch(params({ custom_target: 'https://evil.example/steal' })), 400, 'foreign_target');
        await refused(await launch(params({ user_id: 'x'.repeat(256) })), 400, 'invalid_parameter');
        await refused(await post(params()), 400, 'missing_consumer_key');
        const noSig = signLaunch(LAUNCH_URL, params(), consumer.consumer_key, consumer.consumer_secret).filter(
          ([k]) => k !== 'oauth_signature',
        );
        await refused(await post(noSig), 400, 'missing_signature');
        const noTs = signLaunch(LAUNCH_URL, params(), consumer.consumer_key, consumer.consumer_secret).map(
          ([k, v]) => [k, k === 'oauth_timestamp' ? 'soon' : v] as [string, string],
        );
        await refused(await post(noTs), 400, 'invalid_timestamp');
        await refused(
          await t.http.post('/lti/1.1/launch').send({ oauth_consumer_key: consumer.consumer_key }),
          400,
          'not_form_encoded',
        );
        const twoKeys = signLaunch(LAUNCH_URL, params(), consumer.consumer_key, consumer.consumer_secret);
        await refused(await post([...twoKeys, ['oauth_consumer_key', 'other']]), 400, 'invalid_parameter');
      });
    });
  });

  describe('outcomes', () => {
    let instructorToken: string;
    let context: string;

    beforeAll(async () => {
      context = uid('graded');
      const instructor = await launchAndExchange(params({ roles: 'Instructor', context_id: context }));
      instructorToken = `Bearer ${instructor.access_token}`;
    });

    /** A learner's launch with an outcome service: the learner's session and graded assignment. */
    async function gradedLaunch(sourcedId = uid('sourced'), userId = uid('learner')) {
      const learner = await launchAndExchange(
        params({
          user_id: userId,
          context_id: context,
          lis_outcome_service_url: outcomes.url,
          lis_result_sourcedid: sourcedId,
        }),
      );
      const list = await t.http
        .get('/api/v1/lti/assignments')
        .set('Authorization', instructorToken)
        .query({ user: learner.user.id });
      expect(list.status).toBe(200);
      expect(list.body.count).toBe(1);
      return { learner, assignment: list.body.results[0] as { id: string; state: string; project: string }, sourcedId };
    }

    const delivered = (id: string, state = 'delivered') =>
      waitFor(
        async () => {
          const res = await t.http.get(`/api/v1/lti/assignments/${id}`).set('Authorization', instructorToken);
          return res.body.state === state ? res.body : null;
        },
        15_000,
        `assignment ${state}`,
      );

    it('an instructor’s score reaches the consumer’s gradebook, signed with a body hash', async () => {
      const { learner, assignment, sourcedId } = await gradedLaunch();
      expect(assignment).toMatchObject({ state: 'none', project: learner.project!.id });
      const res = await t.http
        .post(`/api/v1/lti/assignments/${assignment.id}/score`)
        .set('Authorization', instructorToken)
        .send({ score: 0.85 });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ state: 'pending', operation: 'replace', score: 0.85 });
      const done = await delivered(assignment.id);
      expect(done).toMatchObject({ attempts: 1, last_error: null });
      const got = outcomes.received.filter((r) => r.sourcedId === sourcedId);
      expect(got).toEqual([
        expect.objectContaining({
          operation: 'replaceResult',
          score: '0.85',
          bodyHashOk: true,
          signatureOk: true,
          consumerKey: consumer.consumer_key,
          contentType: 'application/xml',
        }),
      ]);
      expect(outcomes.gradebook.get(sourcedId)).toBe('0.85');

      // readResult and deleteResult
      const client = t.app.get(OutcomesClient);
      const target = {
        url: outcomes.url,
        consumerKey: consumer.consumer_key,
        consumerSecret: consumer.consumer_secret,
        sourcedId,
      };
      expect((await client.send(target, 'readResult')).score).toBe(0.85);
      const del = await t.http
        .delete(`/api/v1/lti/assignments/${assignment.id}/score`)
        .set('Authorization', instructorToken);
      expect(del.status).toBe(202);
      await delivered(assignment.id);
      expect(outcomes.gradebook.has(sourcedId)).toBe(false);
      expect((await client.send(target, 'readResult')).score).toBeNull();
      // Message identifiers are unique.
      const ids = outcomes.received.map((r) => r.messageId);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('retries after a 500 or a non-POX answer, and shows a refusal as failed', async () => {
      const { assignment } = await gradedLaunch();
      outcomes.answers.push('http500', 'garbage');
      await t.http
        .post(`/api/v1/lti/assignments/${assignment.id}/score`)
        .set('Authorization', instructorToken)
        .send({ score: 1 });
      expect(await delivered(assignment.id)).toMatchObject({ attempts: 3, last_error: null });

      outcomes.answers.push('failure');
      await t.http
        .post(`/api/v1/lti/assignments/${assignment.id}/score`)
        .set('Authorization', instructorToken)
        .send({ score: 0 });
      const failed = await delivered(assignment.id, 'failed');
      expect(failed.attempts).toBe(1);
      expect(failed.last_error).toContain('failure');
    });

    it('a wrong secret at the consumer is a refusal the assignment shows', async () => {
      const c = await newConsumer();
      const strict = await startOutcomeService(() => 'another-secret');
      try {
        const teacher = await (async () => {
          const r = await launch(params({ roles: 'Instructor', context_id: 'x' }), { with: c });
          return exchange(r.headers.location as string);
        })();
        const r = await launch(
          params({ context_id: 'x', lis_outcome_service_url: strict.url, lis_result_sourcedid: 's1' }),
          { with: c },
        );
        const learner = await exchange(r.headers.location as string);
        const list = await t.http
          .get('/api/v1/lti/assignments')
          .set('Authorization', `Bearer ${teacher.access_token}`)
          .query({ user: learner.user.id });
        const id = list.body.results[0].id as string;
        await t.http
          .post(`/api/v1/lti/assignments/${id}/score`)
          .set('Authorization', `Bearer ${teacher.access_token}`)
          .send({ score: 0.5 });
        const failed = await waitFor(async () => {
          const res = await t.http
            .get(`/api/v1/lti/assignments/${id}`)
            .set('Authorization', `Bearer ${teacher.access_token}`);
          return res.body.state === 'failed' ? res.body : null;
        });
        expect(strict.received[0]).toMatchObject({ bodyHashOk: true, signatureOk: false });
        expect(failed.last_error).toContain('failure');
        // The consumer deleted: no more grades to it.
        expect((await t.http.delete(`/api/v1/lti/consumers/${c.id}`).set(staff.auth)).status).toBe(204);
        const gone = await t.http
          .post(`/api/v1/lti/assignments/${id}/score`)
          .set('Authorization', `Bearer ${teacher.access_token}`)
          .send({ score: 0.5 });
        expect(gone.status).toBe(409);
        expect(gone.body.error).toBe('consumer_deleted');
      } finally {
        await strict.close();
      }
    });

    it('learners cannot grade; scores outside 0.0–1.0 are 400', async () => {
      const { learner, assignment } = await gradedLaunch();
      const asLearner = await t.http
        .post(`/api/v1/lti/assignments/${assignment.id}/score`)
        .set('Authorization', `Bearer ${learner.access_token}`)
        .send({ score: 1 });
      expect(asLearner.status).toBe(404);
      for (const score of [1.5, -0.1, '0.5', null]) {
        const res = await t.http
          .post(`/api/v1/lti/assignments/${assignment.id}/score`)
          .set('Authorization', instructorToken)
          .send({ score });
        expect(res.status).toBe(400);
      }
    });

    it('the same result launched again is the same assignment, of the same user', async () => {
      const userId = uid('learner');
      const { learner, assignment, sourcedId } = await gradedLaunch(uid('sourced'), userId);
      await gradedLaunch(sourcedId, userId);
      const list = await t.http
        .get('/api/v1/lti/assignments')
        .set('Authorization', instructorToken)
        .query({ project: assignment.project });
      const same = list.body.results.filter(
        (a: { lis_result_sourcedid: string }) => a.lis_result_sourcedid === sourcedId,
      );
      expect(same).toEqual([expect.objectContaining({ id: assignment.id, user: learner.user.id })]);
    });
  });
});

describe('LTI 1.1 nonces in Redis (REDIS_URL set)', () => {
  let t: TestApp;
  const prefix = `ca-test-${randomUUID()}`;

  beforeAll(async () => {
    t = await createTestApp({
      settings: { PUBLIC_URL: TOOL_URL, ...jobSettings('bull', { REDIS_KEY_PREFIX: prefix }) },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a replay, keeps the nonce as a Redis key with a TTL, and writes no nonce row', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const created = await t.http
      .post('/api/v1/lti/consumers')
      .set(staff.auth)
      .send({ organization: org.id, consumer_name: 'Redis LMS' });
    const c = created.body as { id: string; consumer_key: string; consumer_secret: string };
    const form = signLaunch(
      LAUNCH_URL,
      Object.entries({
        lti_message_type: 'basic-lti-launch-request',
        lti_version: 'LTI-1p0',
        resource_link_id: 'rl',
        user_id: 'u-redis',
      }),
      c.consumer_key,
      c.consumer_secret,
    );
    const send = () =>
      t.http.post('/lti/1.1/launch').set('Content-Type', 'application/x-www-form-urlencoded').send(formBody(form));
    expect((await send()).status).toBe(303);
    const replay = await send();
    expect({ status: replay.status, reason: reasonOf(replay) }).toEqual({ status: 401, reason: 'nonce_replayed' });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const keys = await redis.keys(`${prefix}:lti11:nonce:${c.id}:*`);
      expect(keys).toHaveLength(1);
      const ttl = await redis.pttl(keys[0]);
      expect(ttl).toBeGreaterThan(200_000);
      expect(ttl).toBeLessThanOrEqual(300_000);
    } finally {
      redis.disconnect();
    }
    const [{ n }] = await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM lti_oauth_nonces');
    expect(n).toBe(0);
  });
});
