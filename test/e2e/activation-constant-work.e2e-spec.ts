import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TransactionRunner } from '../../src/database/transaction';
import { ActivationService } from '../../src/accounts/activation/activation.service';
import { sha256Hex } from '../../src/common/crypto/secrets';
import type { Settings } from '../../src/config/settings.schema';
import { CountingLogger, countingDataSource } from '../permissions/counting-logger';
import { createTestDatabase } from '../utils/test-databases';
import { UsersRepository } from '../../src/accounts/users/users.repository';

/**
 * The activation grant must not tell, by the work it does, which field of a failed attempt was wrong:
 * a wrong code on a real person and date of birth has to cost what an unknown identity costs, or its
 * timing would confirm someone's date of birth. Compared here statement by statement, on real PostgreSQL.
 */
describe('Activation matching does the same work whichever field was wrong', () => {
  let ds: DataSource;
  let log: CountingLogger;
  let activation: ActivationService;

  beforeAll(async () => {
    ({ ds, log } = await countingDataSource((await createTestDatabase()).url, 2));
    const settings = { ACTIVATION_MAX_ATTEMPTS: 5, ACTIVATION_LOCK_SECONDS: 900 } as Settings;
    // match() reads and writes activation records only; the users and audit services are not involved.
    activation = new ActivationService(
      ds,
      undefined as never,
      undefined as never,
      settings,
      new TransactionRunner(ds),
      new UsersRepository(),
    );
  });
  afterAll(() => ds?.destroy());

  async function record(): Promise<{ id: string; crsid: string; dateOfBirth: string; code: string }> {
    const [org] = await ds.query('INSERT INTO organizations (key, name) VALUES ($1, $1) RETURNING id', [
      `org-${randomUUID()}`,
    ]);
    const crsid = `ab${randomUUID().slice(0, 6)}`;
    const [user] = await ds.query('INSERT INTO users (username, organization_id) VALUES ($1, $2) RETURNING id', [
      crsid,
      org.id,
    ]);
    const code = 'ABCDEFGHJKMN';
    const [row] = await ds.query(
      `INSERT INTO activation_records (organization_id, user_id, crsid, last_name, date_of_birth, code_hash, expires_at)
       VALUES ($1, $2, $3, 'doe', '1996-12-19', $4, now() + interval '1 day') RETURNING id`,
      [org.id, user.id, crsid, sha256Hex(code)],
    );
    return { id: row.id, crsid, dateOfBirth: '1996-12-19', code };
  }

  const attempts = async (id: string) =>
    (await ds.query('SELECT failed_attempts FROM activation_records WHERE id = $1', [id]))[0].failed_attempts;

  it('sends the same statements for a wrong code, a wrong date of birth and an unknown crsid', async () => {
    const who = await record();
    const wrongCode = await log.during(() =>
      activation.match({ crsid: who.crsid, dateOfBirth: who.dateOfBirth, code: 'QRSTUVWXYZ23' }),
    );
    const wrongDob = await log.during(() =>
      activation.match({ crsid: who.crsid, dateOfBirth: '1996-12-20', code: who.code }),
    );
    const unknown = await log.during(() =>
      activation.match({ crsid: `${who.crsid}x`, dateOfBirth: who.dateOfBirth, code: who.code }),
    );
    for (const r of [wrongCode, wrongDob, unknown]) expect(r.result).toBeNull();
    expect(wrongCode.queries.some((q) => q.startsWith('UPDATE activation_records'))).toBe(true);
    expect(wrongDob.queries).toEqual(wrongCode.queries);
    expect(unknown.queries).toEqual(wrongCode.queries);
    // Only the wrong code on the real identity counted an attempt.
    expect(await attempts(who.id)).toBe(1);
  });

  it('still finds the record with the right details and clears the count', async () => {
    const who = await record();
    await activation.match({ crsid: who.crsid, dateOfBirth: who.dateOfBirth, code: 'QRSTUVWXYZ23' });
    const found = await activation.match({ crsid: who.crsid, dateOfBirth: who.dateOfBirth, code: 'abcd-efgh-jkmn' });
    expect(found?.id).toBe(who.id);
    expect(await attempts(who.id)).toBe(0);
  });
});
