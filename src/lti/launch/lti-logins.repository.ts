import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { PinoLogger } from 'nestjs-pino';
import { EntityManager, LessThan, Repository } from 'typeorm';
import { RedisConnection } from '../../common/redis/redis-connection';
import { LtiLaunchError } from './lti-launch-error';
import { LtiLogin } from './lti-login.entity';

/** A login as a launch reads it, from either store. */
export type LoginRecord = Pick<
  LtiLogin,
  | 'id'
  | 'stateHash'
  | 'nonceHash'
  | 'bindingHash'
  | 'platformId'
  | 'deploymentId'
  | 'targetLinkUri'
  | 'storageTarget'
  | 'expiresAt'
  | 'usedAt'
>;

export type NewLogin = Omit<LoginRecord, 'id' | 'usedAt'>;

/**
 * How long a login's Redis keys outlive its state: a launch posted a little late is told
 * `state_expired` rather than `unknown_state` (the table keeps such rows until its purge, as long).
 */
const EXPIRED_GRACE_MS = 10 * 60_000;

/** Until when an unspent login's Redis keys are kept (epoch ms). */
const unspentUntil = (expiresAt: Date) => expiresAt.getTime() + EXPIRED_GRACE_MS;

/**
 * Spends a login once (KEYS: the login hash, the nonce key; ARGV: now, keep-until, the spender's
 * mark). The first caller wins; the login and its nonce then live until the spending token's exp.
 */
const SPEND = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'used') == 1 then return 0 end
local keep = math.max(tonumber(redis.call('HGET', KEYS[1], 'keep')), tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'used', ARGV[1], 'mark', ARGV[3], 'keep', keep)
redis.call('PEXPIREAT', KEYS[1], keep)
redis.call('SET', KEYS[2], 'used')
redis.call('PEXPIREAT', KEYS[2], keep)
return 1`;

/** Gives a login back when the launch that spent it failed (ARGV: the spender's mark, the original keep-until). */
const UNSPEND = `
if redis.call('HGET', KEYS[1], 'mark') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'used', 'mark')
redis.call('HSET', KEYS[1], 'keep', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], 'issued')
redis.call('PEXPIREAT', KEYS[2], ARGV[2])
return 1`;

/**
 * The state and nonce of every login, until the launch that spends them has expired. With
 * REDIS_URL, two keys per login: a hash `<prefix>:lti:login:<state sha256>` and
 * `<prefix>:lti:nonce:<nonce sha256>` (`issued` or `used`), both expiring on their own; otherwise
 * the `lti_logins` table, purged every ten minutes (LtiLoginsPurge). Either way a login is spent
 * once, across replicas, and only if its launch succeeds: in the table the spending is part of the
 * launch's transaction; in Redis an atomic script spends it before the transaction and gives it
 * back if the transaction fails. A Redis error refuses the launch (`state_store_unavailable`).
 */
@Injectable()
export class LtiLoginsRepository {
  constructor(
    @InjectRepository(LtiLogin) private readonly logins: Repository<LtiLogin>,
    private readonly redis: RedisConnection,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('LTI');
  }

  async insert(values: NewLogin): Promise<void> {
    if (!this.redis.enabled) {
      await this.logins.insert({ ...values, usedAt: null, keepUntil: values.expiresAt });
      return;
    }
    const keep = unspentUntil(values.expiresAt);
    const login = this.loginKey(values.stateHash);
    const nonce = this.nonceKey(values.nonceHash);
    await this.inRedis(() =>
      this.redis.client
        .multi()
        .hset(login, {
          id: randomUUID(),
          nonce: values.nonceHash,
          binding: values.bindingHash,
          platform: values.platformId,
          deployment: values.deploymentId ?? '',
          target: values.targetLinkUri,
          storage: values.storageTarget ?? '',
          expires: values.expiresAt.getTime(),
          keep,
        })
        .pexpireat(login, keep)
        .set(nonce, 'issued', 'PXAT', keep)
        .exec()
        .then(failedStep),
    );
  }

  async findByState(stateHash: string): Promise<LoginRecord | null> {
    if (!this.redis.enabled) return this.logins.findOneBy({ stateHash });
    const h = await this.inRedis(() => this.redis.client.hgetall(this.loginKey(stateHash)));
    if (!h.id) return null;
    return {
      id: h.id,
      stateHash,
      nonceHash: h.nonce,
      bindingHash: h.binding,
      platformId: h.platform,
      deploymentId: h.deployment || null,
      targetLinkUri: h.target,
      storageTarget: h.storage || null,
      expiresAt: new Date(Number(h.expires)),
      usedAt: h.used ? new Date(Number(h.used)) : null,
    };
  }

  /**
   * Whether some login (another one than the caller's) issued this nonce: `used` when a launch spent
   * that login (it is kept until the spending token's exp), `issued` when it is still unspent.
   */
  async nonceIssued(nonceHash: string): Promise<'used' | 'issued' | null> {
    if (this.redis.enabled) {
      const v = await this.inRedis(() => this.redis.client.get(this.nonceKey(nonceHash)));
      return v === 'used' || v === 'issued' ? v : null;
    }
    const found = await this.logins.findOne({ where: { nonceHash }, select: { id: true, usedAt: true } });
    return found ? (found.usedAt ? 'used' : 'issued') : null;
  }

  /**
   * Runs a launch as the one spending of its login: the first launch to get here wins, a concurrent
   * or later one is refused with `state_used`. `launch` gets the step to run first in its
   * transaction (the table's spending; nothing with Redis). The login is then kept until the
   * spending id_token expires (`keepUntil`), so a replay of that token is still refused as one.
   */
  async spending<T>(
    login: LoginRecord,
    keepUntil: Date,
    launch: (inTransaction: (tx: EntityManager) => Promise<void>) => Promise<T>,
  ): Promise<T> {
    if (!this.redis.enabled)
      return launch(async (tx) => {
        if (!(await this.spendRow(login.id, keepUntil, tx)))
          throw new LtiLaunchError('state_used', { login: login.id });
      });
    const keys = [this.loginKey(login.stateHash), this.nonceKey(login.nonceHash)];
    const mark = randomUUID();
    const spent = await this.inRedis(() =>
      this.redis.client.eval(SPEND, 2, ...keys, Date.now(), keepUntil.getTime(), mark),
    );
    if (spent !== 1) throw new LtiLaunchError('state_used', { login: login.id });
    try {
      return await launch(async () => {});
    } catch (e) {
      await this.redis.client
        .eval(UNSPEND, 2, ...keys, mark, unspentUntil(login.expiresAt))
        .catch((err: unknown) => this.logger.warn({ err, login: login.id }, 'could not give back an LTI login'));
      throw e;
    }
  }

  private async spendRow(id: string, keepUntil: Date, tx: EntityManager): Promise<boolean> {
    const r = await tx
      .createQueryBuilder()
      .update(LtiLogin)
      .set({ usedAt: () => 'now()', keepUntil: () => 'greatest(keep_until, :keepUntil)' })
      .setParameter('keepUntil', keepUntil)
      .where('id = :id AND used_at IS NULL', { id })
      .execute();
    return (r.affected ?? 0) > 0;
  }

  /** Deletes logins past their time (unspent and expired, or spent and their token expired) from the table. */
  async purge(): Promise<number> {
    return (await this.logins.delete({ keepUntil: LessThan(new Date()) })).affected ?? 0;
  }

  private loginKey(stateHash: string): string {
    return this.redis.key('lti', 'login', stateHash);
  }

  private nonceKey(nonceHash: string): string {
    return this.redis.key('lti', 'nonce', nonceHash);
  }

  private async inRedis<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (e) {
      this.logger.error({ err: e }, 'LTI login store (Redis) unavailable');
      throw new LtiLaunchError('state_store_unavailable');
    }
  }
}

/** A MULTI's answers: throws the first step's error. */
function failedStep(results: [Error | null, unknown][] | null): void {
  if (!results) throw new Error('transaction discarded');
  for (const [err] of results) if (err) throw err;
}
