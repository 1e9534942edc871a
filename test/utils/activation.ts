import { randomBytes, randomInt } from 'node:crypto';
import type { Test } from 'supertest';
import { NEW_USER_GRANT, tokenRequest } from './oauth';
import type { TestApp } from './test-app';

export interface ActivationRow {
  crsid: string;
  last_name: string;
  date_of_birth: string;
  first_name?: string;
  email?: string;
}

export interface ActivationIdentity {
  crsid: string;
  lastName: string;
  dateOfBirth: string;
  code: string;
  userId: string;
  recordId: string;
}

/** A random, valid activation row: unique crsid and last name, so tests sharing a database never match each other's records. */
export function activationRow(overrides: Partial<ActivationRow> = {}): ActivationRow {
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    crsid: `ab${randomBytes(4).toString('hex')}`,
    last_name: `Smith-${randomBytes(4).toString('hex')}`,
    date_of_birth: `${randomInt(1950, 2006)}-${pad(randomInt(1, 13))}-${pad(randomInt(1, 29))}`,
    first_name: 'Alex',
    ...overrides,
  };
}

/** POST /api/v1/activation-records as `auth` (a staff user). */
export function postActivationRecords(
  t: TestApp,
  auth: { Authorization: string },
  organization: string,
  records: object[],
): Test {
  return t.http.post('/api/v1/activation-records').set(auth).send({ organization, records });
}

/** Creates one activation record through the API and returns what its holder would know. */
export async function newActivation(
  t: TestApp,
  auth: { Authorization: string },
  organization: string,
  overrides: Partial<ActivationRow> = {},
): Promise<ActivationIdentity> {
  const row = activationRow(overrides);
  const res = await postActivationRecords(t, auth, organization, [row]);
  const [result] = res.body.results ?? [];
  if (res.status !== 201 || result?.status !== 'created')
    throw new Error(`activation record not created: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    crsid: row.crsid,
    lastName: row.last_name,
    dateOfBirth: row.date_of_birth,
    code: result.code,
    userId: result.user,
    recordId: result.id,
  };
}

/** The new-user-credentials grant at the token endpoint with exactly these parameters. */
export function activationGrant(t: TestApp, params: Record<string, string>, grantType = NEW_USER_GRANT): Test {
  return tokenRequest(t, { grant_type: grantType, ...params });
}

/** An activation token for `who` (by crsid). */
export async function activationToken(t: TestApp, who: ActivationIdentity): Promise<string> {
  const res = await activationGrant(t, { crsid: who.crsid, date_of_birth: who.dateOfBirth, code: who.code });
  if (res.status !== 200) throw new Error(`activation grant failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}
