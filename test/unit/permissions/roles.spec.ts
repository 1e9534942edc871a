import { asSubject, buildAbility, Grant, missingForRole } from '../../../src/permissions/ability';
import { findRole, Role, roleProblems, ROLES } from '../../../src/permissions/roles';
import type { Principal } from '../../../src/common/auth/principal';

const user = (over: Partial<Principal> = {}): Principal => ({
  type: 'user',
  id: 'u-1',
  name: 'alice',
  tokenKind: 'user',
  scopes: [],
  isStaff: false,
  isSupport: false,
  ...over,
});
const grant = (role: string, scopeType: Grant['scopeType'], scopeId: string, organizationId = 'org-1'): Grant => ({
  role,
  scopeType,
  scopeId,
  organizationId,
});

describe('roles as code', () => {
  it('has no problems: unique snake_case names, one-line descriptions, subjects that live in the scope', () => {
    expect(roleProblems()).toEqual([]);
  });

  it('defines every required role at its scope', () => {
    const required: [string, string][] = [
      ['organization_admin', 'organization'],
      ['course_account_manager', 'organization'],
      ['organization_read_metadata', 'organization'],
      ['organization_read_enrollments', 'organization'],
      ['organization_read_write_enrollments', 'organization'],
      ['organization_read_reports', 'organization'],
      ['program_read_metadata', 'program'],
      ['program_read_enrollments', 'program'],
      ['program_read_write_enrollments', 'program'],
      ['program_read_reports', 'program'],
      ['project_manager', 'project'],
      ['project_contributor', 'project'],
      ['project_member', 'project'],
    ];
    for (const [name, scope] of required) expect(findRole(name)?.scopeType).toBe(scope);
  });

  it('reports a permission on a subject that does not live in the role scope', () => {
    const bad: Role = {
      name: 'bad_role',
      description: 'Broken.',
      scopeType: 'project',
      permissions: [{ action: 'read', subject: 'AuditEvent' }],
    };
    expect(roleProblems([...ROLES, bad])).toEqual([expect.stringContaining('bad_role: read AuditEvent')]);
    expect(roleProblems([ROLES[0], ROLES[0]])).toEqual([expect.stringContaining('duplicate')]);
  });
});

describe('buildAbility', () => {
  it('gives staff everything and support every read', () => {
    const staff = buildAbility(user({ isStaff: true }), []);
    expect(staff.can('delete', asSubject('Organization', { id: 'any' }))).toBe(true);
    const support = buildAbility(user({ isSupport: true }), []);
    expect(support.can('read', asSubject('Project', { id: 'p', organizationId: 'o' }))).toBe(true);
    expect(support.can('read_enrollments', asSubject('Program', { id: 'p', organizationId: 'o' }))).toBe(true);
    expect(support.can('update', asSubject('Project', { id: 'p', organizationId: 'o' }))).toBe(false);
  });

  it('lets everyone read itself and read and cancel its own jobs, nobody else’s', () => {
    const a = buildAbility(user(), []);
    expect(a.can('read', 'Self')).toBe(true);
    expect(a.can('update', 'Self')).toBe(true);
    expect(a.can('read', asSubject('User', { id: 'u-1', organizationId: null }))).toBe(true);
    expect(a.can('read', asSubject('User', { id: 'u-2', organizationId: null }))).toBe(false);
    expect(a.can('cancel', asSubject('Job', { ownerType: 'user', ownerId: 'u-1', organizationId: null }))).toBe(true);
    expect(
      a.can('cancel', asSubject('Job', { ownerType: 'service_account', ownerId: 'u-1', organizationId: null })),
    ).toBe(false);
    expect(a.can('retry', asSubject('Job', { ownerType: 'user', ownerId: 'u-1', organizationId: null }))).toBe(false);
  });

  it('gives an activation token nothing but activation', () => {
    const a = buildAbility(user({ tokenKind: 'activation' }), [grant('organization_admin', 'organization', 'org-1')]);
    expect(a.can('activate', 'Self')).toBe(true);
    expect(a.can('read', 'Self')).toBe(false);
    expect(a.can('update', 'Self')).toBe(false);
    expect(a.can('read', 'Project')).toBe(false);
  });

  it('scopes an organization role to its organization', () => {
    const a = buildAbility(user(), [grant('organization_admin', 'organization', 'org-1')]);
    expect(a.can('delete', asSubject('Project', { id: 'p', organizationId: 'org-1' }))).toBe(true);
    expect(a.can('delete', asSubject('Project', { id: 'p', organizationId: 'org-2' }))).toBe(false);
    expect(a.can('update', asSubject('Organization', { id: 'org-1' }))).toBe(true);
    expect(a.can('update', asSubject('Organization', { id: 'org-2' }))).toBe(false);
    expect(
      a.can(
        'manage_members',
        asSubject('Group', { id: 'g', organizationId: 'org-1', scopeType: 'project', scopeId: 'p' }),
      ),
    ).toBe(true);
  });

  it('scopes a project role to its project, its groups and its course accounts', () => {
    const a = buildAbility(user(), [grant('project_manager', 'project', 'p-1')]);
    expect(a.can('update', asSubject('Project', { id: 'p-1', organizationId: 'org-1' }))).toBe(true);
    expect(a.can('update', asSubject('Project', { id: 'p-2', organizationId: 'org-1' }))).toBe(false);
    expect(a.can('delete', asSubject('Project', { id: 'p-1', organizationId: 'org-1' }))).toBe(false);
    expect(a.can('close', asSubject('CourseAccount', { id: 'c', organizationId: 'org-1', projectId: 'p-1' }))).toBe(
      true,
    );
    expect(a.can('close', asSubject('CourseAccount', { id: 'c', organizationId: 'org-1', projectId: 'p-2' }))).toBe(
      false,
    );
    expect(
      a.can(
        'manage_members',
        asSubject('Group', { id: 'g', organizationId: 'org-1', scopeType: 'project', scopeId: 'p-1' }),
      ),
    ).toBe(true);
    // A program whose id happens to equal the project's is another scope.
    expect(
      a.can('read', asSubject('Group', { id: 'g', organizationId: 'org-1', scopeType: 'program', scopeId: 'p-1' })),
    ).toBe(false);
  });

  it('scopes a program role to its program', () => {
    const a = buildAbility(user(), [grant('program_read_reports', 'program', 'pr-1')]);
    expect(a.can('read_reports', asSubject('Program', { id: 'pr-1', organizationId: 'org-1' }))).toBe(true);
    expect(a.can('read_reports', asSubject('Program', { id: 'pr-2', organizationId: 'org-1' }))).toBe(false);
    expect(a.can('write_enrollments', asSubject('Program', { id: 'pr-1', organizationId: 'org-1' }))).toBe(false);
  });

  it('merges grants of the same role into one $in rule', () => {
    const grants = Array.from({ length: 50 }, (_, i) => grant('project_member', 'project', `p-${i}`));
    const a = buildAbility(user(), grants);
    const projectRules = a.rulesFor('read', 'Project');
    expect(projectRules).toHaveLength(1);
    expect(projectRules[0].conditions).toEqual({ id: { $in: expect.arrayContaining(['p-0', 'p-49']) } });
  });

  it('ignores a service account’s grants outside its organization, and unknown or mis-scoped roles', () => {
    const sa = user({ type: 'service_account', id: 'sa-1', organizationId: 'org-1' });
    const a = buildAbility(sa, [
      grant('project_manager', 'project', 'p-1', 'org-2'),
      grant('no_such_role', 'project', 'p-3'),
      grant('project_manager', 'organization', 'org-1'),
    ]);
    expect(a.can('read', 'Project')).toBe(false);
    expect(a.can('read', asSubject('Organization', { id: 'org-1' }))).toBe(true);
    expect(a.can('read', asSubject('Organization', { id: 'org-2' }))).toBe(false);
  });
});

describe('missingForRole', () => {
  const project = { type: 'project' as const, id: 'p-1', organizationId: 'org-1' };
  const organization = { type: 'organization' as const, id: 'org-1', organizationId: 'org-1' };

  it('lets a project manager hand out every project role of its project, none of another', () => {
    const a = buildAbility(user(), [grant('project_manager', 'project', 'p-1')]);
    for (const role of ROLES.filter((r) => r.scopeType === 'project')) {
      expect(missingForRole(a, role, project)).toEqual([]);
      expect(missingForRole(a, role, { ...project, id: 'p-2' })).not.toEqual([]);
    }
  });

  it('refuses organization roles to a project manager and project_manager to a contributor', () => {
    const pm = buildAbility(user(), [grant('project_manager', 'project', 'p-1')]);
    expect(missingForRole(pm, findRole('organization_admin')!, organization)).not.toEqual([]);
    const contributor = buildAbility(user(), [grant('project_contributor', 'project', 'p-1')]);
    expect(missingForRole(contributor, findRole('project_manager')!, project)).toEqual(
      expect.arrayContaining([{ action: 'manage', subject: 'Group' }]),
    );
  });

  it('lets an organization admin hand out every role in its organization', () => {
    const a = buildAbility(user(), [grant('organization_admin', 'organization', 'org-1')]);
    for (const role of ROLES) {
      const scope =
        role.scopeType === 'organization' ? organization : { type: role.scopeType, id: 'x-1', organizationId: 'org-1' };
      expect(missingForRole(a, role, scope)).toEqual([]);
      expect(
        missingForRole(a, role, { ...scope, organizationId: 'org-2', id: scope.id === 'org-1' ? 'org-2' : scope.id }),
      ).not.toEqual([]);
    }
  });
});
