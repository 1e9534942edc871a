import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TokenIssuer } from '../../src/accounts/auth/token-issuer.service';
import { Organization } from '../../src/accounts/organizations/organization.entity';
import { Project, ProjectKind } from '../../src/accounts/projects/project.entity';
import { ServiceAccount } from '../../src/accounts/service-accounts/service-account.entity';
import { ServiceAccountsService } from '../../src/accounts/service-accounts/service-accounts.service';
import { User } from '../../src/accounts/users/user.entity';
import { UsersService } from '../../src/accounts/users/users.service';
import type { Principal } from '../../src/common/auth/principal';
import { AbilityFactory } from '../../src/permissions/ability.factory';
import type { TestApp } from '../utils/test-app';

/** A short unique suffix, so tests sharing a database never collide. */
export function unique(prefix = 'x'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

const ds = (t: TestApp) => t.app.get(DataSource);

export async function createOrganization(t: TestApp, overrides: Partial<Organization> = {}): Promise<Organization> {
  const repo = ds(t).getRepository(Organization);
  return repo.save(repo.create({ key: unique('org'), name: 'Test organization', ...overrides }));
}

export async function createProject(
  t: TestApp,
  organizationId: string,
  overrides: Partial<Omit<Project, 'kind'>> & { kind?: ProjectKind } = {},
): Promise<Project> {
  const repo = ds(t).getRepository(Project);
  return repo.save(
    repo.create({
      organizationId,
      key: unique('prj'),
      name: 'Test project',
      kind: 'default',
      startDate: null,
      endDate: null,
      ...overrides,
    }),
  );
}

export interface Authenticated<T> {
  /** The saved row. */
  row: T;
  principal: Principal;
  token: string;
  /** `{ Authorization: 'Bearer …' }` for supertest's `.set()`. */
  auth: { Authorization: string };
}

export async function createUser(
  t: TestApp,
  options: {
    organizationId?: string | null;
    isStaff?: boolean;
    isSupport?: boolean;
    password?: string;
    isActive?: boolean;
    username?: string;
    email?: string;
  } = {},
): Promise<Authenticated<User>> {
  const user = await t.app.get(UsersService).insert({
    username: options.username ?? unique('user'),
    email: options.email ?? `${unique('mail')}@example.edu`,
    organizationId: options.organizationId ?? null,
    isStaff: options.isStaff ?? false,
    isSupport: options.isSupport ?? false,
    isActive: options.isActive ?? true,
    password: options.password,
  });
  const { token } = await t.app.get(TokenIssuer).userAccessToken(user.id, user.username);
  return {
    row: user,
    token,
    auth: { Authorization: `Bearer ${token}` },
    principal: {
      type: 'user',
      id: user.id,
      name: user.username,
      tokenKind: 'user',
      scopes: [],
      isStaff: user.isStaff,
      isSupport: user.isSupport,
    },
  };
}

export const createStaff = (t: TestApp) => createUser(t, { isStaff: true });

export async function createServiceAccount(
  t: TestApp,
  organizationId: string,
  options: { scopes?: string[] } = {},
): Promise<Authenticated<ServiceAccount> & { clientSecret: string }> {
  const staff: Principal = {
    type: 'user',
    id: '00000000-0000-0000-0000-000000000000',
    name: 'factory',
    tokenKind: 'user',
    scopes: [],
    isStaff: true,
    isSupport: false,
  };
  const { account, secret } = await t.app
    .get(ServiceAccountsService)
    .create(staff, await t.app.get(AbilityFactory).for(staff), {
      organization: organizationId,
      name: unique('svc'),
      allowed_scopes: options.scopes ?? [],
    });
  const { token } = await t.app
    .get(TokenIssuer)
    .serviceToken(account.id, account.clientId, account.allowedScopes, organizationId);
  return {
    row: account,
    // Created without keys, so it has a secret.
    clientSecret: secret!,
    token,
    auth: { Authorization: `Bearer ${token}` },
    principal: {
      type: 'service_account',
      id: account.id,
      name: account.clientId,
      tokenKind: 'service',
      scopes: account.allowedScopes,
      isStaff: false,
      isSupport: false,
      organizationId,
    },
  };
}
