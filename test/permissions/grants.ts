import { DataSource } from 'typeorm';
import type { Principal } from '../../src/common/auth/principal';
import type { ScopeType } from '../../src/permissions/subjects';
import type { TestApp } from '../utils/test-app';

export interface GrantOptions {
  /** Default: never. A date in the past makes an expired membership. */
  expiresAt?: Date | null;
  name?: string;
}

/**
 * Puts a principal into a new group holding `role` at a scope, straight in the database (setup for
 * tests that exercise something else than the groups API). Returns the group id.
 */
export async function grantRole(
  t: TestApp | DataSource,
  principal: Pick<Principal, 'type' | 'id'>,
  role: string,
  scope: { type: ScopeType; id: string; organizationId: string },
  options: GrantOptions = {},
): Promise<string> {
  const ds = t instanceof DataSource ? t : t.app.get(DataSource);
  const [group] = await ds.query(
    'INSERT INTO groups (organization_id, name, scope_type, scope_id, role) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [scope.organizationId, options.name ?? `${role} of ${scope.id}`, scope.type, scope.id, role],
  );
  await ds.query(
    'INSERT INTO group_memberships (group_id, principal_type, principal_id, expires_at) VALUES ($1, $2, $3, $4)',
    [group.id, principal.type, principal.id, options.expiresAt ?? null],
  );
  return group.id;
}

export const orgScope = (org: { id: string }) => ({
  type: 'organization' as const,
  id: org.id,
  organizationId: org.id,
});
export const projectScope = (project: { id: string; organizationId: string }) => ({
  type: 'project' as const,
  id: project.id,
  organizationId: project.organizationId,
});
