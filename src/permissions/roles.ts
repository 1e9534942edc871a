import { Action, ALL, SCOPE_LINKS, ScopeType, SubjectType } from './subjects';

/**
 * Roles are code: a role is a named, documented set of permissions, held through a group at one
 * scope. Changing what a role may do is a code review, never a database edit. A permission on
 * `all` means every subject that lives in the role's scope (see SCOPE_LINKS).
 */
export interface Permission {
  action: Action;
  subject: SubjectType | typeof ALL;
}

export interface Role {
  name: string;
  /** One line, shown in the API and the README. */
  description: string;
  scopeType: ScopeType;
  permissions: readonly Permission[];
  /**
   * Permissions that `permissions` would cover (through `manage` or `all`) and the role does not
   * grant: CASL `cannot` rules at the role's scope, for the destructive acts kept for staff.
   */
  except?: readonly Permission[];
}

const p = (action: Action, ...subjects: (SubjectType | typeof ALL)[]): Permission[] =>
  subjects.map((subject) => ({ action, subject }));

/** Program rights exist at organization scope (every program of it) and at program scope (one program). */
function registrarRoles(scopeType: 'organization' | 'program'): Role[] {
  const where = scopeType === 'organization' ? 'every program of the organization' : 'the program';
  // Organization is not reachable from a program scope, so only organization roles read it.
  const base = [...p('read', 'Program'), ...(scopeType === 'organization' ? p('read', 'Organization') : [])];
  return [
    {
      name: `${scopeType}_read_metadata`,
      description: `Reads the metadata (title, courses, dates) of ${where}.`,
      scopeType,
      permissions: [...base, ...p('read_metadata', 'Program')],
    },
    {
      name: `${scopeType}_read_enrollments`,
      description: `Reads the program and course enrollments of ${where}.`,
      scopeType,
      permissions: [...base, ...p('read_metadata', 'Program'), ...p('read_enrollments', 'Program')],
    },
    {
      name: `${scopeType}_read_write_enrollments`,
      description: `Reads and changes (uploads, withdrawals) the enrollments of ${where}.`,
      scopeType,
      permissions: [
        ...base,
        ...p('read_metadata', 'Program'),
        ...p('read_enrollments', 'Program'),
        ...p('write_enrollments', 'Program'),
      ],
    },
    {
      name: `${scopeType}_read_reports`,
      description: `Reads grades and reports of ${where}.`,
      scopeType,
      permissions: [...base, ...p('read_metadata', 'Program'), ...p('read_reports', 'Program')],
    },
  ];
}

export const ROLES: readonly Role[] = [
  {
    name: 'organization_admin',
    description:
      'Does everything in the organization: projects, users, service accounts, groups, course accounts, programs; renames it, but only staff delete it.',
    scopeType: 'organization',
    permissions: p('manage', ALL),
    // Deleting an organization ends every member's access: staff only.
    except: p('delete', 'Organization'),
  },
  {
    name: 'course_account_manager',
    description: 'Creates, retries and closes course accounts in every project of the organization.',
    scopeType: 'organization',
    permissions: [...p('read', 'Organization', 'Project'), ...p('manage', 'CourseAccount')],
  },
  {
    name: 'organization_lti_grades',
    description: 'Posts scores to the LMS gradebooks (LTI AGS) of every course project of the organization.',
    scopeType: 'organization',
    permissions: [...p('read', 'Organization', 'Project', 'LtiScore'), ...p('create', 'LtiScore')],
  },
  ...registrarRoles('organization'),
  ...registrarRoles('program'),
  {
    name: 'project_manager',
    description:
      'Manages the project: its details, its groups and members (its roster with names), its course accounts, its LMS grades (LTI 1.3 scores, LTI 1.1 assignments) and roster sync.',
    scopeType: 'project',
    permissions: [
      ...p('read', 'Project', 'LtiContext', 'LtiAssignment'),
      ...p('read_members', 'Project'),
      ...p('update', 'Project', 'LtiContext', 'LtiAssignment'),
      ...p('manage', 'Group', 'CourseAccount', 'LtiScore'),
    ],
  },
  {
    name: 'project_course_account_manager',
    description: 'Creates, retries and closes the course accounts of the project.',
    scopeType: 'project',
    permissions: [...p('read', 'Project', 'Group'), ...p('manage', 'CourseAccount')],
  },
  {
    name: 'project_contributor',
    description:
      'Reads the project, its groups and its roster with names; creates, updates and retries its course accounts; posts its LMS grades.',
    scopeType: 'project',
    permissions: [
      ...p('read', 'Project', 'Group', 'CourseAccount', 'LtiScore', 'LtiAssignment'),
      ...p('read_members', 'Project'),
      ...p('update', 'LtiAssignment'),
      ...p('create', 'CourseAccount', 'LtiScore'),
      ...p('update', 'CourseAccount'),
      ...p('retry', 'CourseAccount'),
    ],
  },
  {
    name: 'project_member',
    description: 'Reads the project, its groups and its course accounts.',
    scopeType: 'project',
    permissions: p('read', 'Project', 'Group', 'CourseAccount'),
  },
];

const BY_NAME = new Map(ROLES.map((r) => [r.name, r]));

export const ROLE_NAMES = ROLES.map((r) => r.name);

export function findRole(name: string): Role | undefined {
  return BY_NAME.get(name);
}

/**
 * Problems with a role table: duplicate names, missing descriptions, permissions on a subject that
 * does not live in the role's scope. Checked by a unit test and when the ability factory starts.
 */
export function roleProblems(roles: readonly Role[] = ROLES): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const role of roles) {
    if (seen.has(role.name)) problems.push(`${role.name}: duplicate role name`);
    seen.add(role.name);
    if (!/^[a-z][a-z0-9_]*$/.test(role.name)) problems.push(`${role.name}: name must be snake_case`);
    if (!role.description.trim() || role.description.includes('\n'))
      problems.push(`${role.name}: needs a one-line description`);
    if (role.permissions.length === 0) problems.push(`${role.name}: grants nothing`);
    for (const { action, subject } of [...role.permissions, ...(role.except ?? [])]) {
      if (subject !== ALL && !SCOPE_LINKS[subject][role.scopeType]) {
        problems.push(`${role.name}: ${action} ${subject} — a ${subject} does not live in a ${role.scopeType} scope`);
      }
    }
  }
  return problems;
}
