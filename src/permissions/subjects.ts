/**
 * The vocabulary of permissions: subject types, actions, scope types, and how each subject is tied
 * to each scope. Abilities condition only on the field names below, so other modules can scope
 * their queries on them (`organizationId` → `organization_id`, …).
 */

/** Subject types and the fields abilities condition on. */
export interface SubjectFields {
  Organization: { id: string };
  Project: { id: string; organizationId: string };
  User: { id: string; organizationId: string | null };
  ServiceAccount: { id: string; organizationId: string };
  Group: { id: string; organizationId: string; scopeType: ScopeType; scopeId: string };
  AuditEvent: { organizationId: string | null };
  ActivationRecord: { organizationId: string };
  Job: { ownerType: string; ownerId: string; organizationId: string | null };
  CourseAccount: { id: string; organizationId: string; projectId: string };
  Program: { id: string; organizationId: string };
  /** An LMS registered as an LTI 1.3 platform of an organization. */
  LtiPlatform: { id: string; organizationId: string };
  /** A webhook subscription of an organization (site agents hear of its events). */
  Webhook: { id: string; organizationId: string };
  /** A score posted to an LMS gradebook (LTI AGS) for a resource link of a course project. */
  LtiScore: { organizationId: string; projectId: string };
  /** An LMS course (LTI context) and its course project: its roster sync (LTI NRPS). */
  LtiContext: { id: string; organizationId: string; projectId: string };
  /** An LMS registered as an LTI 1.1 consumer (key and shared secret) of an organization. */
  LtiConsumer: { id: string; organizationId: string };
  /** An LTI 1.1 graded assignment (a gradebook cell of a consumer), in a course project when its launch had a context. */
  LtiAssignment: { id: string; organizationId: string; projectId: string | null };
  /** The caller itself: its identity (`/auth/me`), its activation, its own permissions. Never conditioned. */
  Self: Record<string, never>;
}

export type SubjectType = keyof SubjectFields;

export const SUBJECT_TYPES = [
  'Organization',
  'Project',
  'User',
  'ServiceAccount',
  'Group',
  'AuditEvent',
  'ActivationRecord',
  'Job',
  'CourseAccount',
  'Program',
  'LtiPlatform',
  'Webhook',
  'LtiScore',
  'LtiContext',
  'LtiConsumer',
  'LtiAssignment',
  'Self',
] as const satisfies readonly SubjectType[];

/** CASL's "any action" and "any subject". */
export const MANAGE = 'manage';
export const ALL = 'all';

export const ACTIONS = [
  'read',
  'create',
  'update',
  'delete',
  'manage',
  'manage_members',
  'rotate_secret',
  'export',
  'cancel',
  'retry',
  'close',
  'read_enrollments',
  'write_enrollments',
  'read_reports',
  'read_metadata',
  'read_members',
  'activate',
] as const;

export type Action = (typeof ACTIONS)[number];

/** Actions that only read: support users hold all of them everywhere. */
export const READ_ACTIONS = [
  'read',
  'read_metadata',
  'read_enrollments',
  'read_reports',
  'read_members',
] as const satisfies readonly Action[];

const CRUD = ['read', 'create', 'update', 'delete'] as const satisfies readonly Action[];

/** The actions that mean something on each subject; introspection lists only these. */
export const SUBJECT_ACTIONS: Record<SubjectType, readonly Action[]> = {
  Organization: CRUD,
  Project: [...CRUD, 'read_members'],
  User: CRUD,
  ServiceAccount: [...CRUD, 'rotate_secret'],
  Group: [...CRUD, 'manage_members'],
  AuditEvent: ['read', 'export'],
  ActivationRecord: [...CRUD, 'export'],
  Job: ['read', 'create', 'delete', 'cancel', 'retry'],
  CourseAccount: [...CRUD, 'retry', 'close', 'export'],
  Program: [...CRUD, 'read_metadata', 'read_enrollments', 'write_enrollments', 'read_reports', 'export'],
  LtiPlatform: CRUD,
  Webhook: [...CRUD, 'rotate_secret'],
  LtiScore: ['read', 'create'],
  LtiContext: ['read', 'update'],
  LtiConsumer: [...CRUD, 'rotate_secret'],
  LtiAssignment: ['read', 'update'],
  Self: ['read', 'update', 'activate'],
};

export const SCOPE_TYPES = ['organization', 'program', 'project'] as const;
export type ScopeType = (typeof SCOPE_TYPES)[number];

/** The subject that a scope id names: a project-scoped group's scope_id is a Project id. */
export const SCOPE_SUBJECT: Record<ScopeType, SubjectType> = {
  organization: 'Organization',
  program: 'Program',
  project: 'Project',
};

/**
 * How a subject belongs to a scope: the field holding the scope's id, plus fixed values (a group
 * belongs to a project through `scopeType = 'project' AND scopeId = <project id>`).
 */
export interface ScopeLink {
  field: string;
  fixed?: Record<string, string>;
}

/**
 * For each subject, the scopes it lives in. A role at a scope reaches a subject only through this
 * table, so adding a subject (or tying an existing one to a new scope) is a row here and nothing
 * in the ability factory. A role permission on a subject with no link for the role's scope type is
 * a programming error, reported by `validateRoles()`.
 */
export const SCOPE_LINKS: Record<SubjectType, Partial<Record<ScopeType, ScopeLink>>> = {
  Organization: { organization: { field: 'id' } },
  Project: { organization: { field: 'organizationId' }, project: { field: 'id' } },
  User: { organization: { field: 'organizationId' } },
  ServiceAccount: { organization: { field: 'organizationId' } },
  Group: {
    organization: { field: 'organizationId' },
    program: { field: 'scopeId', fixed: { scopeType: 'program' } },
    project: { field: 'scopeId', fixed: { scopeType: 'project' } },
  },
  AuditEvent: { organization: { field: 'organizationId' } },
  ActivationRecord: { organization: { field: 'organizationId' } },
  // Jobs and their results belong to whoever started them (plus staff, and support to read): no
  // organization or project role reaches them, as in ARCHITECTURE.md.
  Job: {},
  CourseAccount: { organization: { field: 'organizationId' }, project: { field: 'projectId' } },
  Program: { organization: { field: 'organizationId' }, program: { field: 'id' } },
  LtiPlatform: { organization: { field: 'organizationId' } },
  Webhook: { organization: { field: 'organizationId' } },
  LtiScore: { organization: { field: 'organizationId' }, project: { field: 'projectId' } },
  LtiContext: { organization: { field: 'organizationId' }, project: { field: 'projectId' } },
  LtiConsumer: { organization: { field: 'organizationId' } },
  LtiAssignment: { organization: { field: 'organizationId' }, project: { field: 'projectId' } },
  Self: {},
};

export function isSubjectType(value: string): value is SubjectType {
  return (SUBJECT_TYPES as readonly string[]).includes(value);
}

export function isAction(value: string): value is Action {
  return (ACTIONS as readonly string[]).includes(value);
}

export function isScopeType(value: string): value is ScopeType {
  return (SCOPE_TYPES as readonly string[]).includes(value);
}
