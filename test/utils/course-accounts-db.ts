import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditEvent } from '../../src/accounts/audit/audit-event.entity';
import { AuditService } from '../../src/accounts/audit/audit.service';
import { Organization } from '../../src/accounts/organizations/organization.entity';
import { Project } from '../../src/accounts/projects/project.entity';
import { User } from '../../src/accounts/users/user.entity';
import { UsersRepository } from '../../src/accounts/users/users.repository';
import { UsersService } from '../../src/accounts/users/users.service';
import { CourseAccount, CourseAccountState } from '../../src/course-accounts/course-account.entity';
import { CourseAccountStateMachine } from '../../src/course-accounts/course-account.state-machine';
import { MockBackendAccount } from '../../src/course-accounts/backends/mock-backend-account.entity';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { TransactionRunner } from '../../src/database/transaction';
import { EventOutbox } from '../../src/events/event-outbox';
import { databaseUrl, withAdminClient } from './test-databases';

/**
 * A migrated database of its own for unit tests that need real PostgreSQL (the state machine's
 * concurrency), without booting the application. Named like the e2e databases, so a crashed run's
 * copy is dropped by a later run.
 */
export async function createStateMachineDatabase(poolSize = 20): Promise<{
  ds: DataSource;
  machine: CourseAccountStateMachine;
  drop: () => Promise<void>;
}> {
  const name = `ca_test_${Math.floor(Date.now() / 1000)}_sm_${randomUUID().slice(0, 8)}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE "${name}"`));
  const migrate = new DataSource(dataSourceOptions({ url: databaseUrl(name), poolSize: 1 }));
  await migrate.initialize();
  await migrate.runMigrations({ transaction: 'each' });
  await migrate.destroy();
  const ds = new DataSource({
    ...dataSourceOptions({ url: databaseUrl(name), poolSize }),
    entities: [Organization, Project, User, AuditEvent, CourseAccount, MockBackendAccount],
  } as never);
  await ds.initialize();
  const audit = new AuditService(ds.getRepository(AuditEvent));
  const machine = new CourseAccountStateMachine(
    ds,
    audit,
    new UsersService(ds.getRepository(User), new TransactionRunner(ds), audit, new UsersRepository()),
    new TransactionRunner(ds),
    new EventOutbox(ds),
  );
  return {
    ds,
    machine,
    drop: async () => {
      await ds.destroy();
      await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** An organization, a course project and a course account in `state`, straight in the database. */
export async function insertAccount(ds: DataSource, state: CourseAccountState = 'PENDING'): Promise<CourseAccount> {
  const suffix = randomUUID().slice(0, 8);
  const org = await ds.getRepository(Organization).save({ key: `org-${suffix}`, name: 'Org' });
  const project = await ds.getRepository(Project).save({
    organizationId: org.id,
    key: `course-${suffix}`,
    name: 'Course',
    kind: 'course',
    startDate: null,
    endDate: '2099-12-31',
  });
  const id = randomUUID();
  const user = await ds
    .getRepository(User)
    .save({ username: `course-account-${id}`, kind: 'course_account', organizationId: org.id });
  return ds.getRepository(CourseAccount).save({
    id,
    projectId: project.id,
    organizationId: org.id,
    userId: user.id,
    email: `${suffix}@example.edu`,
    description: '',
    state,
    idempotencyKey: id,
    username: state === 'PENDING' ? null : `ca-${suffix}`,
    expiresAt: new Date('2100-01-01T00:00:00Z'),
    closedAt: null,
  });
}
