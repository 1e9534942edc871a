import { Client } from 'pg';
import { LtiLoginsRepository } from '../../src/lti/launch/lti-logins.repository';
import { createOrganization, createStaff, unique } from '../factories/accounts';
import { fullLaunch, launchAndExchange, ltiLaunch, ltiLogin, reasonOf, TARGET, TOOL_URL } from '../utils/lti-launch';
import { LaunchSpec, LtiPlatformSimulator, newPlatformKey, ROLE, startLtiPlatform } from '../utils/lti-platform';
import { createTestApp, TestApp } from '../utils/test-app';

const REFETCH_INTERVAL_S = 2;
/**
 * What only the app's timers send during a launch: the job sweeper, key ring reload, course account
 * scheduler, e-mail expiry look, webhook deliveries, and the outbox relay (its transaction takes an
 * advisory lock, it reads and marks events by `relayed_at`; its purge deletes relayed events). A launch's
 * own outbox events are counted.
 */
const BACKGROUND =
  /\bjobs\b|\bjob_\w+|\bsigning_keys\b|\bcourse_accounts\b|\bparticipant_emails\b|\bwebhook_\w+|pg_try_advisory|DELETE FROM outbox_events|\brelayed_at\b/;

/**
 * The statements of the launch among all those sent meanwhile: each client's transactions (or single
 * statements) that touch a background table are left out, brackets included, and so are transactions
 * seen only in part (begun before the count or still open after it).
 */
function launchStatements(sent: { client: Client; text: string }[]): string[] {
  const out: string[] = [];
  const open = new Map<Client, string[]>();
  for (const { client, text } of sent) {
    const block = open.get(client);
    if (/^\s*(START TRANSACTION|BEGIN)\b/i.test(text)) open.set(client, [text]);
    else if (block) {
      block.push(text);
      if (/^\s*(COMMIT|ROLLBACK)\b/i.test(text)) {
        open.delete(client);
        if (!block.some((s) => BACKGROUND.test(s))) out.push(...block);
      }
    } else if (/^\s*(COMMIT|ROLLBACK)\b/i.test(text)) {
      // The end of a transaction begun before the count (a timer's): not the launch's.
    } else if (!BACKGROUND.test(text)) out.push(text);
  }
  // A transaction still open when the launch has answered is not the launch's (it answers after its commit):
  // the outbox relay, nudged by that commit, may just have begun one.
  return out;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What an attacker or a busy LMS does with launches: replays (of the id_token, of the whole form
 * post, after a while), key rotations, the same user's first launch ten times at once; and what a
 * launch costs in SQL however long the user's history.
 */
describe('LTI launches: replays, key rotation, concurrency, SQL per launch', () => {
  let t: TestApp;
  let staff: { Authorization: string };
  let organization: string;
  let sql: Client;

  beforeAll(async () => {
    t = await createTestApp({
      settings: { PUBLIC_URL: TOOL_URL, LTI_JWKS_REFETCH_INTERVAL_SECONDS: String(REFETCH_INTERVAL_S) },
    });
    staff = (await createStaff(t)).auth;
    organization = (await createOrganization(t)).id;
    sql = new Client({ connectionString: t.database.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
  });

  async function platform(): Promise<LtiPlatformSimulator> {
    const lms = await startLtiPlatform();
    const res = await t.http.post('/api/v1/lti/platforms').set(staff).send(lms.registration(organization));
    expect(res.status).toBe(201);
    return lms;
  }

  /** A fresh login, and the launch form post of `idToken` under its state and cookie. */
  async function inFreshLogin(lms: LtiPlatformSimulator, idToken: string) {
    const login = await ltiLogin(t, lms.loginParams(lms.prepare({}), TARGET));
    expect(login.res.status).toBe(302);
    return ltiLaunch(t, { id_token: idToken, state: login.state }, login.cookie);
  }

  describe('replays', () => {
    let lms: LtiPlatformSimulator;
    beforeAll(async () => (lms = await platform()));
    afterAll(() => lms?.close());

    it('refuses the same id_token in a fresh login (nonce_used)', async () => {
      const first = await fullLaunch(t, lms);
      expect(first.res.status).toBe(303);
      const replay = await inFreshLogin(lms, first.fields.id_token);
      expect({ status: replay.status, reason: reasonOf(replay) }).toEqual({ status: 401, reason: 'nonce_used' });
    });

    it('refuses the same form post resubmitted, cookie and all (state_used)', async () => {
      const first = await fullLaunch(t, lms);
      expect(first.res.status).toBe(303);
      const again = await ltiLaunch(t, first.fields, first.login.cookie);
      expect({ status: again.status, reason: reasonOf(again) }).toEqual({ status: 401, reason: 'state_used' });
      expect(again.headers.location).toBeUndefined();
    });

    it('refuses the same id_token 15 s later, and remembers the nonce until the token’s exp', async () => {
      const first = await fullLaunch(t, lms, { exp: 3600 });
      expect(first.res.status).toBe(303);
      const nonce = new URL(first.login.location).searchParams.get('nonce')!;
      await sleep(15_500);
      const resubmitted = await ltiLaunch(t, first.fields, first.login.cookie);
      expect(reasonOf(resubmitted)).toBe('state_used');
      const replay = await inFreshLogin(lms, first.fields.id_token);
      expect(reasonOf(replay)).toBe('nonce_used');
      // The spent login is kept until the token's exp (plus the clock skew), past its own state TTL,
      // and survives the purge of logins past their time.
      const exp = (
        JSON.parse(Buffer.from(first.fields.id_token.split('.')[1], 'base64url').toString()) as { exp: number }
      ).exp;
      const { createHash } = await import('node:crypto');
      const row = await sql.query<{ keep_until: Date; used_at: Date | null }>(
        'SELECT keep_until, used_at FROM lti_logins WHERE nonce_hash = $1',
        [createHash('sha256').update(nonce).digest('hex')],
      );
      expect(row.rows).toHaveLength(1);
      expect(row.rows[0].used_at).not.toBeNull();
      expect(row.rows[0].keep_until.getTime()).toBe((exp + t.settings.LTI_CLOCK_SKEW_SECONDS) * 1000);
      await t.app.get(LtiLoginsRepository).purge();
      expect(reasonOf(await inFreshLogin(lms, first.fields.id_token))).toBe('nonce_used');
    }, 40_000);
  });

  describe('platform key rotation', () => {
    let lms: LtiPlatformSimulator;
    beforeAll(async () => (lms = await platform()));
    afterAll(() => lms?.close());

    it('fetches the JWKS once, then launches from the cache; a rotated key costs exactly one refetch', async () => {
      expect(lms.jwksRequests).toBe(0);
      expect((await fullLaunch(t, lms)).res.status).toBe(303);
      expect(lms.jwksRequests).toBe(1);
      for (let i = 0; i < 3; i++) expect((await fullLaunch(t, lms)).res.status).toBe(303);
      expect(lms.jwksRequests).toBe(1); // cached: a launch does not fetch the JWKS

      await sleep(REFETCH_INTERVAL_S * 1000 + 200);
      const kid = await lms.rotateKey({ keepPrevious: false });
      const rotated = await fullLaunch(t, lms);
      expect(rotated.res.status).toBe(303);
      expect(JSON.parse(Buffer.from(rotated.fields.id_token.split('.')[0], 'base64url').toString())).toMatchObject({
        kid,
      });
      expect(lms.jwksRequests).toBe(2);
      expect((await fullLaunch(t, lms)).res.status).toBe(303);
      expect(lms.jwksRequests).toBe(2);
    });

    it('refetches for an unknown kid at most once per interval', async () => {
      const stranger = await newPlatformKey();
      const unknownKid = async () => {
        const launch = await fullLaunch(t, lms, { key: stranger });
        expect(reasonOf(launch.res)).toBe('unknown_kid');
      };
      await sleep(REFETCH_INTERVAL_S * 1000 + 200);
      const before = lms.jwksRequests;
      for (let i = 0; i < 4; i++) await unknownKid();
      expect(lms.jwksRequests).toBe(before + 1);
      await Promise.all([unknownKid(), unknownKid(), unknownKid()]);
      expect(lms.jwksRequests).toBe(before + 1);
      await sleep(REFETCH_INTERVAL_S * 1000 + 200);
      for (let i = 0; i < 3; i++) await unknownKid();
      expect(lms.jwksRequests).toBe(before + 2);
      // The platform's own key still launches, from the cache.
      expect((await fullLaunch(t, lms)).res.status).toBe(303);
      expect(lms.jwksRequests).toBe(before + 2);
    }, 20_000);
  });

  describe('concurrent first launches', () => {
    let lms: LtiPlatformSimulator;
    beforeAll(async () => (lms = await platform()));
    afterAll(() => lms?.close());

    it('10 first launches of the same user into the same context at once make one user, one project, one membership', async () => {
      const spec: LaunchSpec = {
        sub: unique('sub'),
        email: `${unique('ada')}@example.edu`,
        givenName: 'Ada',
        familyName: 'Lovelace',
        roles: [ROLE.learner],
        context: { id: unique('ctx'), title: unique('Concurrent course') },
      };
      const launches = await Promise.all(Array.from({ length: 10 }, () => launchAndExchange(t, lms, spec)));
      expect(new Set(launches.map((l) => l.session.user.id)).size).toBe(1);
      expect(new Set(launches.map((l) => l.session.project?.id)).size).toBe(1);

      const [platformId] = (
        await sql.query<{ id: string }>('SELECT id FROM lti_platforms WHERE issuer = $1', [lms.issuer])
      ).rows.map((r) => r.id);
      const identities = await sql.query('SELECT user_id FROM lti_identities WHERE platform_id = $1 AND subject = $2', [
        platformId,
        spec.sub,
      ]);
      expect(identities.rows).toHaveLength(1);
      const userId = (identities.rows[0] as { user_id: string }).user_id;
      expect((await sql.query('SELECT id FROM users WHERE email = $1', [spec.email])).rows).toHaveLength(1);
      const contexts = await sql.query<{ id: string; project_id: string }>(
        'SELECT id, project_id FROM lti_contexts WHERE platform_id = $1 AND context_id = $2',
        [platformId, spec.context!.id],
      );
      expect(contexts.rows).toHaveLength(1);
      expect(
        (await sql.query("SELECT id FROM projects WHERE name = $1 AND kind = 'course'", [spec.context!.title])).rows,
      ).toHaveLength(1);
      expect(
        (await sql.query('SELECT id FROM lti_memberships WHERE context_ref = $1', [contexts.rows[0].id])).rows,
      ).toHaveLength(1);
      const groupMemberships = await sql.query(
        `SELECT gm.id FROM group_memberships gm JOIN groups g ON g.id = gm.group_id
         WHERE g.scope_type = 'project' AND g.scope_id = $1 AND gm.principal_type = 'user' AND gm.principal_id = $2`,
        [contexts.rows[0].project_id, userId],
      );
      expect(groupMemberships.rows).toHaveLength(1);
      expect((await sql.query('SELECT id FROM lti_launches WHERE user_id = $1', [userId])).rows).toHaveLength(10);
    });
  });

  describe('SQL statements per launch', () => {
    let lms: LtiPlatformSimulator;
    beforeAll(async () => (lms = await platform()));
    afterAll(() => lms?.close());

    /** The statements the app sends while it answers the launch form post of `spec` (login and auth done first). */
    async function statementsOfLaunch(spec: LaunchSpec): Promise<string[]> {
      const login = await ltiLogin(t, lms.loginParams(lms.prepare(spec), TARGET));
      expect(login.res.status).toBe(302);
      const fields = await lms.authorize(login.location);
      const sent: { client: Client; text: string }[] = [];
      const query = Client.prototype.query;
      const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
        const config = args[0] as string | { text?: string };
        sent.push({ client: this, text: typeof config === 'string' ? config : (config?.text ?? '') });
        return (query as (...a: unknown[]) => unknown).apply(this, args) as never;
      });
      try {
        const res = await ltiLaunch(t, fields, login.cookie);
        expect(res.status).toBe(303);
      } finally {
        spy.mockRestore();
      }
      return launchStatements(sent);
    }

    it('sends as many statements for a returning user’s 2nd, 5th launch and for a user with many memberships', async () => {
      const context = { id: unique('ctx'), title: 'Statements' };
      const newcomer = { sub: unique('sub'), email: `${unique('s')}@example.edu`, roles: [ROLE.learner], context };
      const firstOfOne = await statementsOfLaunch(newcomer);
      const counts: Record<string, number> = {};
      for (let i = 2; i <= 5; i++) counts[`launch ${i}`] = (await statementsOfLaunch(newcomer)).length;

      // A user with a long history: 30 courses, each with a membership.
      const veteran = { sub: unique('sub'), email: `${unique('v')}@example.edu`, roles: [ROLE.learner] };
      for (let i = 0; i < 30; i++)
        expect(
          (await fullLaunch(t, lms, { ...veteran, context: { id: unique('hist'), title: `History ${i}` } })).res.status,
        ).toBe(303);
      const firstOfVeteranHere = await statementsOfLaunch({ ...veteran, context });
      counts['veteran, again'] = (await statementsOfLaunch({ ...veteran, context })).length;
      // A role change (Learner → Instructor) adds the same few statements (the groups read, two audit
      // events) whatever the history.
      const promotedVeteran = (await statementsOfLaunch({ ...veteran, roles: [ROLE.instructor], context })).length;

      const returning = counts['launch 2'];
      expect(counts).toEqual(Object.fromEntries(Object.keys(counts).map((k) => [k, returning])));
      // A known user's first launch into a known context costs the same with one course or thirty elsewhere.
      const junior = { sub: unique('sub'), email: `${unique('j')}@example.edu`, roles: [ROLE.learner] };
      expect((await fullLaunch(t, lms, { ...junior, context: { id: unique('hist'), title: 'Once' } })).res.status).toBe(
        303,
      );
      expect(firstOfVeteranHere.length).toBe((await statementsOfLaunch({ ...junior, context })).length);
      expect(promotedVeteran).toBe((await statementsOfLaunch({ ...junior, roles: [ROLE.instructor], context })).length);
      // A role change adds a groups read, two audit events and their two membership events (the outbox).
      expect(promotedVeteran).toBeLessThanOrEqual(returning + 5);
      expect(firstOfOne.length).toBeGreaterThanOrEqual(returning);
      expect(returning).toBeLessThanOrEqual(20);
    }, 60_000);
  });
});
