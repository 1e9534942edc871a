import { createHash } from 'node:crypto';

const MIN = 4;
const MAX = 30;

/** Lower-case ASCII letters, digits and `. _ -`, starting and ending with a letter or digit; null outside 4–30 characters. */
export function sanitizeUsername(raw: string): string | null {
  const ascii = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, '.')
    .replace(/[^a-z0-9._-]/g, '')
    .replace(/([._-])[._-]+/g, '$1');
  const cut = ascii.slice(0, MAX).replace(/^[._-]+|[._-]+$/g, '');
  return cut.length >= MIN ? cut : null;
}

/**
 * The usernames a new LTI user may get, best first: the e-mail's local part, else `first.last`,
 * else `lti_user_<hash>`; each followed by the same with a short hash suffix for a collision. The
 * hash is of (platform, sub), so the suffix is the same on every attempt for the same person.
 */
export function usernameCandidates(
  platformId: string,
  sub: string,
  person: { email?: string; givenName?: string; familyName?: string },
): string[] {
  const hash = createHash('sha256').update(`${platformId}\n${sub}`).digest('hex');
  const fromEmail = person.email ? sanitizeUsername(person.email.split('@')[0]) : null;
  const names = [person.givenName, person.familyName].filter((n): n is string => Boolean(n?.trim()));
  const fromNames = names.length ? sanitizeUsername(names.join('.')) : null;
  const base = fromEmail ?? fromNames;
  const pseudonym = [`lti_user_${hash.slice(0, 10)}`, `lti_user_${hash.slice(0, 16)}`];
  if (!base) return [...pseudonym, `lti_user_${hash.slice(0, 21)}`];
  const suffixed = (n: number) => `${base.slice(0, MAX - n - 1).replace(/[._-]+$/, '')}_${hash.slice(0, n)}`;
  return [base, suffixed(4), suffixed(8), ...pseudonym];
}
