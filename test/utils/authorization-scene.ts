import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { randomSecret, sha256Hex } from '../../src/common/crypto/secrets';
import { Organization } from '../../src/accounts/organizations/organization.entity';
import { Project } from '../../src/accounts/projects/project.entity';
import { ServiceAccount } from '../../src/accounts/service-accounts/service-account.entity';
import { User } from '../../src/accounts/users/user.entity';
import {
  Authenticated,
  createOrganization,
  createProject,
  createServiceAccount,
  createUser,
  unique,
} from '../factories/accounts';
import { grantRole, orgScope, projectScope } from '../permissions/grants';
import { createCourse } from './course-accounts';
import { createProgram, createProgramCourse } from '../factories/registrar';
import { SignedUrls } from '../../src/registrar/signed-urls';
import type { TestApp } from './test-app';

/**
 * The callers of the authorization matrix, in the order of its columns. "The object" is the object
 * the route acts on; its organization and project are the scene's `org()` and `project()`.
 */
export const CALLERS = [
  /** No Authorization header. */
  'anonymous',
  /** is_staff. */
  'staff',
  /** is_support. */
  'support',
  /** organization_admin of the object's organization. */
  'organizationAdmin',
  /** organization_admin of another organization. */
  'otherOrganizationAdmin',
  /** project_manager of the object's project. */
  'projectManager',
  /** project_contributor of the object's project. */
  'projectContributor',
  /** project_member of the object's project. */
  'projectMember',
  /** project_manager of another project of the same organization. */
  'otherProjectManager',
  /** project_manager of the object's project through a membership that has expired. */
  'expiredProjectManager',
  /** A service account of the object's organization, organization_admin through a group membership. */
  'serviceAccountAdmin',
  /** A user of the object's organization without any membership. */
  'noMembership',
] as const;

export type CallerName = (typeof CALLERS)[number];

/** What every scene shares: the app and the accounts that set objects up through the API. */
export interface SceneKit {
  t: TestApp;
  /** Creates the objects that only the API makes (course accounts through the mock backend). */
  staff: Authenticated<User>;
  /** A user with a password, for the login route. */
  login: { username: string; password: string };
  /** A service account's credentials, for the token endpoint. */
  client: { clientId: string; secret: string };
}

export interface GroupWithMember {
  groupId: string;
  memberType: 'user';
  memberId: string;
}

export interface JobWithArtifact {
  id: string;
  artifact: string;
}

/**
 * A little world around one object: its organization and project, another organization and another
 * project of the same organization, the objects routes act on, and the callers with their roles
 * there. Everything is made on first use and kept, so a scene shared by read-only cells is built
 * once, and a scene made for one mutating cell builds only what that cell touches.
 */
export class Scene {
  private readonly made = new Map<string, Promise<unknown>>();

  constructor(private readonly kit: SceneKit) {}

  private get t(): TestApp {
    return this.kit.t;
  }

  /** The application, for scene helpers kept in files of their own (test/utils/lti-services-scene.ts). */
  testApp(): TestApp {
    return this.kit.t;
  }

  private get db(): DataSource {
    return this.kit.t.app.get(DataSource);
  }

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let made = this.made.get(key) as Promise<T> | undefined;
    if (!made) this.made.set(key, (made = make()));
    return made;
  }

  /** The object's organization. */
  org(): Promise<Organization> {
    return this.once('org', () => createOrganization(this.t));
  }

  otherOrg(): Promise<Organization> {
    return this.once('otherOrg', () => createOrganization(this.t));
  }

  /** The object's project: a live course project ending in 30 days, so it can hold course accounts. */
  project(): Promise<Project> {
    return this.once('project', async () => createCourse(this.t, (await this.org()).id));
  }

  /** Another project of the same organization. */
  otherProject(): Promise<Project> {
    return this.once('otherProject', async () => createProject(this.t, (await this.org()).id));
  }

  /** A user of the organization with no role. */
  user(): Promise<User> {
    return this.once('user', async () => (await createUser(this.t, { organizationId: (await this.org()).id })).row);
  }

  /** Another user of the organization, for routes that take a second one (a new group member). */
  secondUser(): Promise<User> {
    return this.once(
      'secondUser',
      async () => (await createUser(this.t, { organizationId: (await this.org()).id })).row,
    );
  }

  serviceAccount(): Promise<ServiceAccount> {
    return this.once('serviceAccount', async () => (await createServiceAccount(this.t, (await this.org()).id)).row);
  }

  /** A project_member group of the project with one member (the scene's user). */
  group(): Promise<GroupWithMember> {
    return this.once('group', async () => {
      const member = await this.user();
      const groupId = await grantRole(
        this.t,
        { type: 'user', id: member.id },
        'project_member',
        projectScope(await this.project()),
        {
          name: unique('members'),
        },
      );
      return { groupId, memberType: 'user' as const, memberId: member.id };
    });
  }

  /**
   * A Pending job of the organization owned by a user who is none of the callers, with an inline
   * artifact. It is recorded without being dispatched (the sweeper is off), so it stays Pending.
   */
  job(): Promise<JobWithArtifact> {
    return this.once('job', async () => {
      const org = await this.org();
      const owner = await this.user();
      const [{ id }] = await this.db.query(
        `INSERT INTO jobs (name, owner_type, owner_id, organization_id, payload) VALUES ('users.export', 'user', $1, $2, $3) RETURNING id`,
        [owner.id, org.id, JSON.stringify({ organizationId: org.id })],
      );
      await this.db.query(
        `INSERT INTO job_artifacts (job_id, name, content_type, size, text) VALUES ($1, 'result', 'text/plain; charset=utf-8', 5, 'done.')`,
        [id],
      );
      return { id, artifact: 'result' };
    });
  }

  /** A registration body for an LTI platform of `organizationId` (a made-up LMS: nothing is fetched from it). */
  ltiPlatformBody(organizationId: string): Record<string, unknown> {
    const lms = `https://${unique('lms')}.example.edu`;
    return {
      organization: organizationId,
      issuer: lms,
      client_id: unique('client'),
      auth_login_url: `${lms}/auth`,
      auth_token_url: `${lms}/token`,
      jwks_url: `${lms}/jwks`,
      deployment_ids: ['deployment-1'],
    };
  }

  /** A webhook subscription of the organization, made through the API (its URL never resolves). */
  webhook(): Promise<{ id: string }> {
    return this.once('webhook', async () => {
      const res = await this.t.http
        .post('/api/v1/webhooks')
        .set(this.kit.staff.auth)
        .send({
          organization: (await this.org()).id,
          url: 'https://agent.example.invalid/hook',
          event_types: ['membership.removed'],
        });
      if (res.status !== 201) throw new Error(`webhook not created: ${res.status} ${JSON.stringify(res.body)}`);
      return { id: res.body.id as string };
    });
  }

  /** A failed delivery of the scene's webhook (written straight in the database), for redelivery. */
  webhookDelivery(): Promise<{ webhookId: string; id: string }> {
    return this.once('webhookDelivery', async () => {
      const { id: webhookId } = await this.webhook();
      const [row] = await this.db.query(
        `INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, subject_id, seq, body, state, attempts, error)
         VALUES ($1, gen_random_uuid(), 'ping', $1, 0, '{}', 'failed', 1, 'HTTP 500') RETURNING id`,
        [webhookId],
      );
      return { webhookId, id: row.id as string };
    });
  }

  /** An LTI platform of the organization, registered through the API. */
  ltiPlatform(): Promise<{ id: string; issuer: string; clientId: string }> {
    return this.once('ltiPlatform', async () => {
      const res = await this.t.http
        .post('/api/v1/lti/platforms')
        .set(this.kit.staff.auth)
        .send(this.ltiPlatformBody((await this.org()).id));
      if (res.status !== 201) throw new Error(`LTI platform not created: ${res.status} ${JSON.stringify(res.body)}`);
      return { id: res.body.id as string, issuer: res.body.issuer as string, clientId: res.body.client_id as string };
    });
  }

  /** Valid third-party login parameters for the organization's LTI platform. */
  async ltiLoginParams(): Promise<Record<string, string>> {
    const platform = await this.ltiPlatform();
    const tool = this.t.settings.PUBLIC_URL ?? `http://localhost:${this.t.settings.PORT}`;
    return {
      iss: platform.issuer,
      client_id: platform.clientId,
      login_hint: 'someone',
      target_link_uri: `${tool.replace(/\/+$/, '')}/lti/app`,
    };
  }

  /** An LTI 1.1 consumer of the organization, registered through the API. */
  ltiConsumer(): Promise<{ id: string }> {
    return this.once('ltiConsumer', async () => {
      const res = await this.t.http
        .post('/api/v1/lti/consumers')
        .set(this.kit.staff.auth)
        .send({ organization: (await this.org()).id, consumer_name: unique('consumer') });
      if (res.status !== 201) throw new Error(`LTI consumer not created: ${res.status} ${JSON.stringify(res.body)}`);
      return { id: res.body.id as string };
    });
  }

  /**
   * An LTI 1.1 graded assignment of the scene's user in the project, as a launch records it. Its
   * outcome service is a closed loopback port: a score sent there is retried, never delivered.
   */
  ltiAssignment(): Promise<{ id: string }> {
    return this.once('ltiAssignment', async () => {
      const consumer = await this.ltiConsumer();
      const [service] = await this.db.query(
        `INSERT INTO lti_outcome_services (consumer_id, lis_outcome_service_url) VALUES ($1, 'http://127.0.0.1:9/outcomes') RETURNING id`,
        [consumer.id],
      );
      const [assignment] = await this.db.query(
        `INSERT INTO lti_graded_assignments (organization_id, project_id, user_id, outcome_service_id, lis_result_sourcedid, resource_link_id)
         VALUES ($1, $2, $3, $4, $5, 'rl-1') RETURNING id`,
        [(await this.org()).id, (await this.project()).id, (await this.user()).id, service.id, unique('sourced')],
      );
      return { id: assignment.id as string };
    });
  }

  /** A course account of the project, created through the API (mock backend): state OK. */
  courseAccount(): Promise<{ id: string }> {
    return this.once('courseAccount', () => this.createCourseAccount());
  }

  /** A course account of the project whose creation failed upstream: state ERRED, retryable. */
  erredCourseAccount(): Promise<{ id: string }> {
    return this.once('erredCourseAccount', async () => {
      const account = await this.createCourseAccount();
      await this.db.query(
        `UPDATE course_accounts SET state = 'ERRED', failed_operation = 'create', error_message = 'backend down' WHERE id = $1 AND state = 'OK'`,
        [account.id],
      );
      return account;
    });
  }

  private async createCourseAccount(): Promise<{ id: string }> {
    const project = await this.project();
    const res = await this.t.http
      .post('/api/v1/course-accounts')
      .set(this.kit.staff.auth)
      .send({ project: project.id, email: `${unique('student')}@example.edu` });
    if (res.status !== 201 || res.body.state !== 'OK')
      throw new Error(`course account not created: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.id as string };
  }

  /**
   * A program of the organization with one course (`course-v1:…`, external key `EXT-1`), a learner
   * `learner-1` enrolled in it and a learner `learner-2` in the program only.
   */
  program(): Promise<{ id: string; key: string; courseId: string; courseRowId: string }> {
    return this.once('program', async () => {
      const program = await createProgram(this.t, (await this.org()).id);
      const course = await createProgramCourse(this.t, program.id, { externalCourseKey: 'EXT-1' });
      const [enrollment] = await this.db.query(
        `INSERT INTO program_enrollments (program_id, student_key, status) VALUES ($1, 'learner-1', 'enrolled') RETURNING id`,
        [program.id],
      );
      await this.db.query(
        `INSERT INTO program_enrollments (program_id, student_key, status) VALUES ($1, 'learner-2', 'enrolled')`,
        [program.id],
      );
      await this.db.query(
        `INSERT INTO course_enrollments (program_course_id, program_enrollment_id, status) VALUES ($1, $2, 'active')`,
        [course.id, enrollment.id],
      );
      return { id: program.id, key: program.key, courseId: course.courseId, courseRowId: course.id };
    });
  }

  /**
   * The signed result URL (path and query) of a finished Registrar read of the scene's program, owned
   * by staff: a link that works without credentials.
   */
  registrarResultLink(): Promise<string> {
    return this.once('registrarResultLink', async () => {
      const program = await this.program();
      const [{ id }] = await this.db.query(
        `INSERT INTO jobs (name, owner_type, owner_id, organization_id, payload, state, finished_at)
         VALUES ('registrar.program-enrollments.read', 'user', $1, $2, $3, 'Succeeded', now()) RETURNING id`,
        [
          this.kit.staff.row.id,
          (await this.org()).id,
          JSON.stringify({ programId: program.id, organizationId: (await this.org()).id, format: 'json' }),
        ],
      );
      await this.db.query(
        `INSERT INTO job_artifacts (job_id, name, content_type, size, text) VALUES ($1, 'result.json', 'application/json; charset=utf-8', 2, '[]')`,
        [id],
      );
      const url = new URL(this.t.app.get(SignedUrls).sign(`/registrar/job-results/${id}.json`));
      return `${url.pathname}${url.search}`;
    });
  }

  /** The signed download URL (path and query) of a report of the scene's program. */
  reportLink(): Promise<string> {
    return this.once('reportLink', async () => {
      const program = await this.program();
      const [{ id }] = await this.db.query(
        `INSERT INTO program_reports (program_id, name, created_date, content_type, content, size)
         VALUES ($1, 'report__2026-01-01', '2026-01-01', 'text/plain', 'data', 4) RETURNING id`,
        [program.id],
      );
      const url = new URL(this.t.app.get(SignedUrls).sign(`/registrar/program-reports/${id}`));
      return `${url.pathname}${url.search}`;
    });
  }

  /** A program of the organization without learners, for routes that delete it. */
  emptyProgram(): Promise<{ id: string; key: string; courseRowId: string }> {
    return this.once('emptyProgram', async () => {
      const program = await createProgram(this.t, (await this.org()).id);
      const course = await createProgramCourse(this.t, program.id);
      return { id: program.id, key: program.key, courseRowId: course.id };
    });
  }

  /** A live refresh token of the scene's user, made straight in the database (no password, no Argon2). */
  refreshToken(): Promise<string> {
    return this.once('refreshToken', async () => {
      const token = randomSecret(32);
      await this.db.query(
        `INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) VALUES ($1, $2, $3, now() + interval '1 day')`,
        [sha256Hex(token), randomUUID(), (await this.user()).id],
      );
      return token;
    });
  }

  /**
   * The headers a console page sends to the browser session routes: the CSRF marker, its own
   * Origin (the matrix app has no PUBLIC_URL: the origin it is reached on), and the session cookie.
   */
  browserSessionHeaders(refreshToken?: string): Record<string, string> {
    const { port } = this.t.app.getHttpServer().address() as AddressInfo;
    return {
      'X-Requested-With': 'campus-access-console',
      Origin: `http://127.0.0.1:${port}`,
      ...(refreshToken ? { Cookie: `campus_access_session=${encodeURIComponent(refreshToken)}` } : {}),
    };
  }

  loginCredentials(): { username: string; password: string } {
    return { ...this.kit.login };
  }

  /** A client_credentials request authenticated in the body (client_secret_post). */
  clientCredentialsForm(): Record<string, string> {
    return {
      grant_type: 'client_credentials',
      client_id: this.kit.client.clientId,
      client_secret: this.kit.client.secret,
    };
  }

  /** The headers a caller sends (none for anonymous). */
  headers(caller: CallerName): Promise<Record<string, string>> {
    return this.once(`caller:${caller}`, () => this.makeCaller(caller));
  }

  private async userWithRole(
    organization: Organization,
    role: string,
    scope: Parameters<typeof grantRole>[3],
    expiresAt: Date | null = null,
  ): Promise<Record<string, string>> {
    const user = await createUser(this.t, { organizationId: organization.id });
    await grantRole(this.t, user.principal, role, scope, { expiresAt, name: unique(role) });
    return user.auth;
  }

  private async makeCaller(caller: CallerName): Promise<Record<string, string>> {
    switch (caller) {
      case 'anonymous':
        return {};
      case 'staff':
        return (await createUser(this.t, { isStaff: true })).auth;
      case 'support':
        return (await createUser(this.t, { isSupport: true })).auth;
      case 'organizationAdmin': {
        const org = await this.org();
        return this.userWithRole(org, 'organization_admin', orgScope(org));
      }
      case 'otherOrganizationAdmin': {
        const other = await this.otherOrg();
        return this.userWithRole(other, 'organization_admin', orgScope(other));
      }
      case 'projectManager':
        return this.userWithRole(await this.org(), 'project_manager', projectScope(await this.project()));
      case 'projectContributor':
        return this.userWithRole(await this.org(), 'project_contributor', projectScope(await this.project()));
      case 'projectMember':
        return this.userWithRole(await this.org(), 'project_member', projectScope(await this.project()));
      case 'otherProjectManager':
        return this.userWithRole(await this.org(), 'project_manager', projectScope(await this.otherProject()));
      case 'expiredProjectManager':
        return this.userWithRole(
          await this.org(),
          'project_manager',
          projectScope(await this.project()),
          new Date(Date.now() - 60_000),
        );
      case 'serviceAccountAdmin': {
        const org = await this.org();
        const account = await createServiceAccount(this.t, org.id);
        await grantRole(this.t, account.principal, 'organization_admin', orgScope(org), {
          name: unique('service-admins'),
        });
        return account.auth;
      }
      case 'noMembership':
        return (await createUser(this.t, { organizationId: (await this.org()).id })).auth;
    }
  }
}
