import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, LessThan, Repository } from 'typeorm';
import { LtiLogin } from './lti-login.entity';

/** The `lti_logins` table: the state and nonce of every login, until the launch that spends them has expired. */
@Injectable()
export class LtiLoginsRepository {
  constructor(@InjectRepository(LtiLogin) private readonly logins: Repository<LtiLogin>) {}

  async insert(values: Omit<LtiLogin, 'id' | 'createdAt' | 'updatedAt' | 'usedAt' | 'keepUntil'>): Promise<void> {
    await this.logins.insert({ ...values, usedAt: null, keepUntil: values.expiresAt });
  }

  findByState(stateHash: string): Promise<LtiLogin | null> {
    return this.logins.findOneBy({ stateHash });
  }

  /**
   * Whether some login (another one than the caller's) issued this nonce: `used` when a launch spent
   * that login (the row is kept until the spending token's exp), `issued` when it is still unspent.
   */
  async nonceIssued(nonceHash: string): Promise<'used' | 'issued' | null> {
    const found = await this.logins.findOne({ where: { nonceHash }, select: { id: true, usedAt: true } });
    return found ? (found.usedAt ? 'used' : 'issued') : null;
  }

  /**
   * Spends a login, once: the first launch to get here wins, a concurrent or later one gets false.
   * The row is then kept until the spending id_token expires (plus the skew), so a replay of that
   * token is still refused as one.
   */
  async spend(id: string, keepUntil: Date, tx: EntityManager): Promise<boolean> {
    const r = await tx
      .createQueryBuilder()
      .update(LtiLogin)
      .set({ usedAt: () => 'now()', keepUntil: () => 'greatest(keep_until, :keepUntil)' })
      .setParameter('keepUntil', keepUntil)
      .where('id = :id AND used_at IS NULL', { id })
      .execute();
    return (r.affected ?? 0) > 0;
  }

  /** Deletes logins past their time (unspent and expired, or spent and their token expired). */
  async purge(): Promise<number> {
    return (await this.logins.delete({ keepUntil: LessThan(new Date()) })).affected ?? 0;
  }
}
