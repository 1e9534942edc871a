import { createMongoAbility, MongoAbility, RawRuleOf, subject as tagSubject } from '@casl/ability';
import type { Principal } from '../common/auth/principal';
import { findRole, Permission, Role } from './roles';
import { ALL, MANAGE, READ_ACTIONS, SCOPE_LINKS, ScopeType, SUBJECT_TYPES, SubjectType } from './subjects';

/** What a principal may do; ask it with `ability.can(action, asSubject(type, fields))`. */
export type AppAbility = MongoAbility;
type Rule = RawRuleOf<AppAbility>;

/** One live membership: the role of a group at its scope. */
export interface Grant {
  role: string;
  scopeType: ScopeType;
  scopeId: string;
  organizationId: string;
}

/** A scope with the organization it belongs to (an organization belongs to itself). */
export interface Scope {
  type: ScopeType;
  id: string;
  organizationId: string;
}

/** Tags plain fields with their subject type so CASL applies that type's rules. */
export function asSubject<T extends object>(type: SubjectType, fields: T): T {
  return tagSubject(type, { ...fields });
}

/**
 * Whether `ability` allows `action` on every `type` object, not only on some: staff for every
 * action, support for the read actions. For work that reaches objects of every organization at
 * once (a sweep over all course accounts, every job of every owner).
 */
export function allowsEverywhere(ability: AppAbility, action: string, type: SubjectType): boolean {
  const rules = ability.rulesFor(action, type);
  return !rules.some((r) => r.inverted) && rules.some((r) => !r.conditions);
}

/** Subjects that a permission on `subject` reaches at a scope type (`all` expands to every linked subject). */
export function subjectsAt(subject: Permission['subject'], scopeType: ScopeType): SubjectType[] {
  if (subject !== ALL) return SCOPE_LINKS[subject][scopeType] ? [subject] : [];
  return SUBJECT_TYPES.filter((s) => SCOPE_LINKS[s][scopeType]);
}

/** Conditions selecting the subjects of one type inside any of the given scopes. */
function scopeConditions(subjectType: SubjectType, scopeType: ScopeType, scopeIds: string[]): Record<string, unknown> {
  const link = SCOPE_LINKS[subjectType][scopeType]!;
  const value = scopeIds.length === 1 ? scopeIds[0] : { $in: scopeIds };
  return { ...link.fixed, [link.field]: value };
}

/**
 * A typical object of `subjectType` inside `scope`: the fields that tie it to the scope and its
 * organization, and nothing else. An ability that allows an action on it allows that action on any
 * such object — the test for "holds at least this role here".
 */
export function representativeAt(subjectType: SubjectType, scope: Scope): Record<string, unknown> | null {
  const own = SCOPE_LINKS[subjectType][scope.type];
  if (!own) return null;
  const org = SCOPE_LINKS[subjectType].organization;
  return {
    ...(org ? { ...org.fixed, [org.field]: scope.organizationId } : {}),
    ...own.fixed,
    [own.field]: scope.id,
  };
}

/** Rules every authenticated principal has about itself. */
function ownRules(principal: Principal): Rule[] {
  const rules: Rule[] = [
    { action: ['read', 'update'], subject: 'Self' },
    {
      action: 'read',
      subject: principal.type === 'user' ? 'User' : 'ServiceAccount',
      conditions: { id: principal.id },
    },
    { action: ['read', 'cancel'], subject: 'Job', conditions: { ownerType: principal.type, ownerId: principal.id } },
  ];
  // A service account belongs to one organization and may see that organization's record.
  if (principal.type === 'service_account' && principal.organizationId) {
    rules.push({ action: 'read', subject: 'Organization', conditions: { id: principal.organizationId } });
  }
  return rules;
}

/**
 * Rules of the roles held through groups. Grants of the same role permission at the same scope type
 * are merged into one `$in` rule, so a principal in 50 project groups has one condition per
 * (action, subject), not 50 — and one `IN` in SQL.
 */
function grantRules(grants: readonly Grant[], resolveRole: (name: string) => Role | undefined): Rule[] {
  type Entry = { action: string; subject: SubjectType; scopeType: ScopeType; ids: Set<string> };
  const allowed = new Map<string, Entry>();
  const denied = new Map<string, Entry>();
  const add = (into: Map<string, Entry>, permissions: readonly Permission[], grant: Grant) => {
    for (const permission of permissions) {
      for (const subject of subjectsAt(permission.subject, grant.scopeType)) {
        const key = `${permission.action}\u0000${subject}\u0000${grant.scopeType}`;
        let entry = into.get(key);
        if (!entry)
          into.set(key, (entry = { action: permission.action, subject, scopeType: grant.scopeType, ids: new Set() }));
        entry.ids.add(grant.scopeId);
      }
    }
  };
  for (const grant of grants) {
    const role = resolveRole(grant.role);
    if (!role || role.scopeType !== grant.scopeType) continue;
    add(allowed, role.permissions, grant);
    add(denied, role.except ?? [], grant);
  }
  const rule = ({ action, subject, scopeType, ids }: Entry, inverted: boolean): Rule => ({
    action,
    subject,
    conditions: scopeConditions(subject, scopeType, [...ids].sort()),
    ...(inverted ? { inverted: true } : {}),
  });
  // CASL gives later rules priority: a role's exceptions come after every grant.
  return [...[...allowed.values()].map((e) => rule(e, false)), ...[...denied.values()].map((e) => rule(e, true))];
}

/**
 * The ability of a principal holding `grants` (its live memberships). Pure: the factory loads the
 * grants, tests and benches call this directly.
 *  - staff: everything; support: every read action on everything;
 *  - activation tokens: only `activate Self` (the activation route);
 *  - everyone else: read Self (`/auth/me`, its own permissions) and its own User/ServiceAccount row,
 *    update Self (its own password), read and cancel its own jobs; a service account reads its own
 *    organization;
 *  - plus the roles of its groups, conditioned on the group's scope.
 * A service account's grants outside its own organization are ignored.
 */
export function buildAbility(
  principal: Principal,
  grants: readonly Grant[],
  resolveRole: (name: string) => Role | undefined = findRole,
): AppAbility {
  if (principal.tokenKind === 'activation') {
    return createMongoAbility([{ action: 'activate', subject: 'Self' }]);
  }
  if (principal.isStaff) return createMongoAbility([{ action: MANAGE, subject: ALL }]);
  const rules: Rule[] = [];
  if (principal.isSupport) rules.push({ action: [...READ_ACTIONS], subject: ALL });
  rules.push(...ownRules(principal));
  const usable =
    principal.type === 'service_account' ? grants.filter((g) => g.organizationId === principal.organizationId) : grants;
  rules.push(...grantRules(usable, resolveRole));
  return createMongoAbility(rules);
}

/**
 * The permissions of `role` at `scope` that `ability` does not hold there. Empty: whoever holds
 * `ability` may hand the role out at that scope without giving anyone more than they have.
 */
export function missingForRole(ability: AppAbility, role: Role, scope: Scope): Permission[] {
  const missing: Permission[] = [];
  for (const permission of role.permissions) {
    for (const subjectType of subjectsAt(permission.subject, scope.type)) {
      const representative = representativeAt(subjectType, scope)!;
      if (!ability.can(permission.action, asSubject(subjectType, representative))) {
        missing.push({ action: permission.action, subject: subjectType });
      }
    }
  }
  return missing;
}
