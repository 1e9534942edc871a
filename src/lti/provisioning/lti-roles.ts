/**
 * The LIS role vocabulary of LTI 1.3 (LTI Core §A.2) and how it maps onto project roles.
 *
 * A role arrives as a full URI (`http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor`), a
 * sub-role URI (`…/membership/Instructor#TeachingAssistant`), a deprecated simple name (`Instructor`,
 * a context role) or an LTI 1.1 URN (`urn:lti:role:ims/lis/Instructor`). Each is normalized to its
 * canonical URI and kind: context (membership) roles grant project roles; institution and system
 * roles are kept apart and grant nothing unless the platform's `role_mappings` say so.
 */

export const PROJECT_ROLES = ['project_manager', 'project_contributor', 'project_member'] as const;
export type ProjectRoleName = (typeof PROJECT_ROLES)[number];
export type RoleMappingTarget = ProjectRoleName | 'none';
export const ROLE_MAPPING_TARGETS: readonly RoleMappingTarget[] = [...PROJECT_ROLES, 'none'];

const LIS = 'http://purl.imsglobal.org/vocab/lis/v2';
const MEMBERSHIP = `${LIS}/membership`;
const INSTITUTION = `${LIS}/institution/person`;
const SYSTEM = `${LIS}/system/person`;
const LTI_SYSTEM = 'http://purl.imsglobal.org/vocab/lti/system/person';

/** Context (membership) principal roles, LTI Core §A.2.3. */
export const CONTEXT_ROLES = [
  'Administrator',
  'ContentDeveloper',
  'Instructor',
  'Learner',
  'Mentor',
  'Manager',
  'Member',
  'Officer',
] as const;

export type RoleKind = 'context' | 'institution' | 'system' | 'unknown';

export interface ParsedRole {
  kind: RoleKind;
  /** The canonical URI (the role as sent for an unknown one): the key of `role_mappings`. */
  uri: string;
  /** Context roles: the principal role (`Instructor` for `…/membership/Instructor#TeachingAssistant`). */
  principal?: string;
  /** Context sub-roles: the sub-role (`TeachingAssistant`). */
  subRole?: string;
}

const isContextRole = (name: string) => (CONTEXT_ROLES as readonly string[]).includes(name);

/** One role string, normalized. */
export function parseRole(raw: string): ParsedRole {
  const role = raw.trim();
  let m: RegExpExecArray | null;
  if ((m = /^http:\/\/purl\.imsglobal\.org\/vocab\/lis\/v2\/membership#(\w+)$/.exec(role)))
    return { kind: 'context', uri: `${MEMBERSHIP}#${m[1]}`, principal: m[1] };
  if ((m = /^http:\/\/purl\.imsglobal\.org\/vocab\/lis\/v2\/membership\/(\w+)#(\w+)$/.exec(role)))
    return { kind: 'context', uri: `${MEMBERSHIP}/${m[1]}#${m[2]}`, principal: m[1], subRole: m[2] };
  if ((m = /^http:\/\/purl\.imsglobal\.org\/vocab\/lis\/v2\/institution\/person#(\w+)$/.exec(role)))
    return { kind: 'institution', uri: `${INSTITUTION}#${m[1]}` };
  if ((m = /^http:\/\/purl\.imsglobal\.org\/vocab\/lis\/v2\/system\/person#(\w+)$/.exec(role)))
    return { kind: 'system', uri: `${SYSTEM}#${m[1]}` };
  if ((m = /^http:\/\/purl\.imsglobal\.org\/vocab\/lti\/system\/person#(\w+)$/.exec(role)))
    return { kind: 'system', uri: `${LTI_SYSTEM}#${m[1]}` };
  // LTI 1.1 URNs, still sent by some platforms next to (or instead of) the 1.3 URIs.
  if ((m = /^urn:lti:role:ims\/lis\/(\w+)(?:\/(\w+))?$/.exec(role)))
    return m[2]
      ? { kind: 'context', uri: `${MEMBERSHIP}/${m[1]}#${m[2]}`, principal: m[1], subRole: m[2] }
      : { kind: 'context', uri: `${MEMBERSHIP}#${m[1]}`, principal: m[1] };
  if ((m = /^urn:lti:instrole:ims\/lis\/(\w+)$/.exec(role)))
    return { kind: 'institution', uri: `${INSTITUTION}#${m[1]}` };
  if ((m = /^urn:lti:sysrole:ims\/lis\/(\w+)$/.exec(role))) return { kind: 'system', uri: `${SYSTEM}#${m[1]}` };
  // Deprecated simple names are context roles (LTI Core §A.2.3.1).
  if (isContextRole(role)) return { kind: 'context', uri: `${MEMBERSHIP}#${role}`, principal: role };
  if ((m = /^(\w+)#(\w+)$/.exec(role)) && isContextRole(m[1]))
    return { kind: 'context', uri: `${MEMBERSHIP}/${m[1]}#${m[2]}`, principal: m[1], subRole: m[2] };
  return { kind: 'unknown', uri: role };
}

/** The canonical key of a `role_mappings` entry (a full URI, a simple name or a URN). */
export function roleMappingKey(raw: string): string {
  return parseRole(raw).uri;
}

/** The default mapping of context roles; sub-roles fall back to their own name, then to their principal role. */
const DEFAULT_CONTEXT: Record<string, RoleMappingTarget> = {
  Administrator: 'project_manager',
  ContentDeveloper: 'project_manager',
  Instructor: 'project_manager',
  TeachingAssistant: 'project_contributor',
  Mentor: 'project_contributor',
  Learner: 'project_member',
};

const RANK: Record<RoleMappingTarget, number> = {
  none: 0,
  project_member: 1,
  project_contributor: 2,
  project_manager: 3,
};

function defaultFor(role: ParsedRole): RoleMappingTarget {
  if (role.kind !== 'context') return 'none';
  if (role.subRole) return DEFAULT_CONTEXT[role.subRole] ?? DEFAULT_CONTEXT[role.principal!] ?? 'project_member';
  return DEFAULT_CONTEXT[role.principal!] ?? 'project_member';
}

/**
 * The project role a launch's roles give in its context: the highest privilege among them, with the
 * platform's overrides first. A principal role sent together with its own sub-roles counts only
 * through them (LTI asks platforms to send both: `Instructor` with `Instructor#TeachingAssistant`
 * is a teaching assistant, not an instructor). Learner, unknown, empty and roles that grant nothing
 * give `project_member`: whoever launches into a course is at least a member of it.
 */
export function mapRoles(roles: readonly string[], overrides: Record<string, RoleMappingTarget> = {}): ProjectRoleName {
  const parsed = roles.map(parseRole);
  const qualified = new Set(parsed.filter((r) => r.subRole).map((r) => r.principal));
  let best: RoleMappingTarget = 'none';
  for (const role of parsed) {
    if (role.kind === 'context' && !role.subRole && qualified.has(role.principal)) continue;
    const target = overrides[role.uri] ?? defaultFor(role);
    if (RANK[target] > RANK[best]) best = target;
  }
  return best === 'none' ? 'project_member' : best;
}

/** Whether a role list names a context role at all (kept on the launch record; mapping does not need it). */
export function splitRoles(roles: readonly string[]): Record<RoleKind, string[]> {
  const out: Record<RoleKind, string[]> = { context: [], institution: [], system: [], unknown: [] };
  for (const raw of roles) {
    const role = parseRole(raw);
    out[role.kind].push(role.uri);
  }
  return out;
}
