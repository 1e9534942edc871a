/**
 * LTI 1.1 role lists (`roles`, comma-separated) brought to the forms the shared role mapping
 * (provisioning/lti-roles.ts) reads: LIS v1 handles (`Instructor`, `learner`, `TeachingAssistant`) and
 * URNs (`urn:lti:role:ims/lis/Instructor/TeachingAssistant`, `urn:lti:instrole:ims/lis/Administrator`)
 * matched without regard to case, as consumers send them (Canvas and Moodle capitalize, others do not),
 * and written as `urn:lti:role:ims/lis/<Handle>` URNs. LIS v2 URIs pass through unchanged.
 */

/** The LIS v1 context role handles (LTI 1.1 Implementation Guide §A.2.2), by lower case. */
const CONTEXT_HANDLES = new Map(
  [
    'Learner',
    'Instructor',
    'ContentDeveloper',
    'Member',
    'Manager',
    'Mentor',
    'Administrator',
    'TeachingAssistant',
  ].map((h) => [h.toLowerCase(), h]),
);

const canonical = (name: string) => CONTEXT_HANDLES.get(name.toLowerCase()) ?? name;

export function normalizeLti11Role(raw: string): string {
  const role = raw.trim();
  let m: RegExpExecArray | null;
  if ((m = /^urn:lti:role:ims\/lis\/(\w+)(?:\/(\w+))?$/i.exec(role)))
    return `urn:lti:role:ims/lis/${canonical(m[1])}${m[2] ? `/${m[2]}` : ''}`;
  if ((m = /^urn:lti:(instrole|sysrole):ims\/lis\/(\w+)$/i.exec(role)))
    return `urn:lti:${m[1].toLowerCase()}:ims/lis/${m[2]}`;
  if (CONTEXT_HANDLES.has(role.toLowerCase())) return `urn:lti:role:ims/lis/${canonical(role)}`;
  return role;
}

/** The `roles` parameter as a list: split at commas, blanks dropped, each role normalized. */
export function lti11Roles(param: string | undefined): string[] {
  if (!param) return [];
  return param
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean)
    .map(normalizeLti11Role);
}
