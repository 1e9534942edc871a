import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { CryptoKey, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, JWK, JWTPayload, SignJWT } from 'jose';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, EntityManager, In, LessThan, Repository } from 'typeorm';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { AuditService } from '../audit/audit.service';
import { KeyEncryption } from './key-encryption';
import { resolveKeyEncryptionSecret } from './key-encryption-secret';
import { SigningKey } from './signing-key.entity';
import { queryRows } from '../../database/query';
import { TransactionRunner } from '../../database/transaction';

interface ActiveKey {
  kid: string;
  alg: string;
  /** Imported once per key: jose signs with it for every token. */
  privateKey: CryptoKey;
}

/** A key in our JWKS: the active one, or a retiring one until `retireAt`. */
export interface PublishedKey {
  alg: string;
  jwk: JWK;
  /** Epoch milliseconds after which the key is no longer published; unset for the active key. */
  retireAt?: number;
}

const RELOAD_COOLDOWN_MS = 5_000;
const LOCK = 'campus-access:signing-keys';

/**
 * Our signing keys: one active, older ones published while tokens they signed may still be in use.
 * Every process reloads them every SIGNING_KEYS_RELOAD_SECONDS, so a rotation made by the CLI or another
 * replica is signed with, and a retired key refused, everywhere within that time.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly encryption: KeyEncryption;
  private active?: ActiveKey;
  private published = new Map<string, PublishedKey>();
  private lastReload = 0;
  private reloading?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private readonly withdrawnListeners: ((kids: ReadonlySet<string>) => void)[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(SigningKey) private readonly keys: Repository<SigningKey>,
    @InjectSettings() private readonly settings: Settings,
    private readonly audit: AuditService,
    private readonly logger: PinoLogger,
    private readonly transactions: TransactionRunner,
  ) {
    this.logger.setContext(SigningKeysService.name);
    const resolved = resolveKeyEncryptionSecret(settings);
    if (resolved.generated) {
      this.logger.warn(
        { file: resolved.file },
        'KEY_ENCRYPTION_SECRET is not set: generated one in the data folder; set it in production',
      );
    }
    this.encryption = new KeyEncryption(resolved.secret);
  }

  async onModuleInit(): Promise<void> {
    await this.ensureActiveKey();
    await this.reload();
    this.timer = setInterval(
      () => void this.scheduledReload(),
      this.settings.SIGNING_KEYS_RELOAD_SECONDS * 1000,
    ).unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // A reload still running would otherwise query a closing connection pool.
    await this.reloading?.catch(() => undefined);
  }

  /** The longest lifetime of any token we sign, plus the clock skew. */
  private get maxTokenTtlSeconds(): number {
    const s = this.settings;
    return (
      Math.max(s.ACCESS_TOKEN_TTL_SECONDS, s.SERVICE_TOKEN_TTL_SECONDS, s.ACTIVATION_TOKEN_TTL_SECONDS) +
      s.JWT_CLOCK_SKEW_SECONDS
    );
  }

  /**
   * How long a key stays published once a rotation replaced it: a replica may go on signing with it until
   * its next reload, and the last token it signs then lives the longest token lifetime (plus the skew).
   */
  get retiringSeconds(): number {
    return this.settings.SIGNING_KEYS_RELOAD_SECONDS + this.maxTokenTtlSeconds;
  }

  private async newKeyRow(): Promise<Partial<SigningKey>> {
    const alg = this.settings.JWT_ALG;
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const kid = randomUUID();
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    return {
      kid,
      alg,
      publicJwk: jwk as Record<string, unknown>,
      privateKeyEncrypted: this.encryption.encrypt(await exportPKCS8(privateKey)),
      status: 'active',
      retireAfter: null,
    };
  }

  private async createKey(tx: EntityManager): Promise<SigningKey> {
    return tx.save(SigningKey, tx.create(SigningKey, await this.newKeyRow()));
  }

  /** Creates the first key; an advisory lock keeps two replicas starting together from making two. */
  private async ensureActiveKey(): Promise<void> {
    await this.transactions.run(async (tx) => {
      await queryRows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK]);
      const count = await tx.count(SigningKey, { where: { status: 'active' } });
      if (count === 0) {
        const row = await this.createKey(tx);
        await this.audit.record(
          {
            action: 'signing_key.created',
            actor: { type: 'system' },
            subjectType: 'SigningKey',
            subjectId: row.kid,
            data: { kid: row.kid, alg: row.alg },
          },
          tx,
        );
        this.logger.info({ kid: row.kid, alg: row.alg }, 'created signing key');
      }
    });
  }

  /**
   * Makes a new key active. The previous one stays published for `retiringSeconds`, after which no replica
   * signs with it any more and every token it signed has expired; then it is retired. `via` names the
   * tool that asked (the CLI) in the audit event.
   */
  async rotate(options: { via?: string } = {}): Promise<{ kid: string; retiring: string[]; retireAfter: Date }> {
    const result = await this.transactions.run(async (tx) => {
      await queryRows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK]);
      const previous = await tx.find(SigningKey, { where: { status: 'active' } });
      const retireAfter = new Date(Date.now() + this.retiringSeconds * 1000);
      if (previous.length) {
        await tx.update(SigningKey, { id: In(previous.map((k) => k.id)) }, { status: 'retiring', retireAfter });
      }
      const row = await this.createKey(tx);
      const retiring = previous.map((k) => k.kid);
      await this.audit.record(
        {
          action: 'signing_key.rotated',
          actor: { type: 'system' },
          subjectType: 'SigningKey',
          subjectId: row.kid,
          data: {
            kid: row.kid,
            alg: row.alg,
            retiring,
            retire_after: retireAfter.toISOString(),
            ...(options.via ? { via: options.via } : {}),
          },
        },
        tx,
      );
      return { kid: row.kid, retiring, retireAfter };
    });
    await this.reloadAfterWrite();
    return result;
  }

  /**
   * Retires a key now, before its time: for a key that may have leaked. The active key cannot be retired
   * (rotate first); tokens it signed are refused everywhere from each server's next key reload.
   */
  async retire(kid: string, options: { via?: string } = {}): Promise<void> {
    await this.transactions.run(async (tx) => {
      await queryRows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK]);
      const key = await tx.findOneBy(SigningKey, { kid });
      if (!key) throw new Error(`No signing key ${kid}.`);
      if (key.status === 'active')
        throw new Error(`Signing key ${kid} is the active key: rotate first, then retire it.`);
      if (key.status === 'retired') return;
      await tx.update(SigningKey, { id: key.id }, { status: 'retired' });
      await this.audit.record(
        {
          action: 'signing_key.retired',
          actor: { type: 'system' },
          subjectType: 'SigningKey',
          subjectId: kid,
          data: { kid, reason: 'manual', ...(options.via ? { via: options.via } : {}) },
        },
        tx,
      );
    });
    await this.reloadAfterWrite();
  }

  /** A reload that started before a write committed would not see it: waits for that one, then loads again. */
  private async reloadAfterWrite(): Promise<void> {
    await this.reloading?.catch(() => undefined);
    await this.reload();
  }

  /** Loads the keys from the database (retiring those whose time has come); concurrent callers share one load. */
  reload(): Promise<void> {
    this.reloading ??= this.load().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  /** The periodic reload: on failure (database unreachable) the keys already loaded stay in use. */
  private async scheduledReload(): Promise<void> {
    try {
      await this.reload();
    } catch (e) {
      this.logger.warn({ err: e }, 'could not reload the signing keys; keeping the current ones');
    }
  }

  private async load(): Promise<void> {
    this.lastReload = Date.now();
    // Every replica runs this; the one whose UPDATE retires a key records it, in the same transaction.
    await this.transactions.run(async (tx) => {
      const expired: { kid: string }[] = (
        await tx
          .createQueryBuilder()
          .update(SigningKey)
          .set({ status: 'retired' })
          .where({ status: 'retiring', retireAfter: LessThan(new Date()) })
          .returning(['kid'])
          .execute()
      ).raw;
      if (expired.length === 0) return;
      await this.audit.recordMany(
        expired.map(({ kid }) => ({
          action: 'signing_key.retired',
          actor: { type: 'system' },
          subjectType: 'SigningKey',
          subjectId: kid,
          data: { kid, reason: 'expired' },
        })),
        tx,
      );
    });
    const rows = await this.keys
      .createQueryBuilder('k')
      .addSelect('k.privateKeyEncrypted')
      .where('k.status IN (:...s)', { s: ['active', 'retiring'] })
      .orderBy('k.createdAt', 'DESC')
      .getMany();
    const activeRow = rows.find((r) => r.status === 'active');
    if (!activeRow) throw new Error('no active signing key');
    const active =
      this.active?.kid === activeRow.kid
        ? this.active
        : {
            kid: activeRow.kid,
            alg: activeRow.alg,
            privateKey: await importPKCS8(this.encryption.decrypt(activeRow.privateKeyEncrypted), activeRow.alg),
          };
    const published = new Map(
      rows.map((r): [string, PublishedKey] => [
        r.kid,
        {
          alg: r.alg,
          jwk: r.publicJwk as JWK,
          ...(r.status === 'retiring' && r.retireAfter ? { retireAt: r.retireAfter.getTime() } : {}),
        },
      ]),
    );
    const withdrawn = new Set([...this.published.keys()].filter((kid) => !published.has(kid)));
    this.active = active;
    this.published = published;
    if (withdrawn.size) for (const listener of this.withdrawnListeners) listener(withdrawn);
  }

  /** Called after a reload with the kids it stopped publishing, so what was verified with them is forgotten. */
  onKeysWithdrawn(listener: (kids: ReadonlySet<string>) => void): void {
    this.withdrawnListeners.push(listener);
  }

  /** The published key `kid`, from memory: undefined once retired, even before the next reload notices. */
  publishedKey(kid: string): PublishedKey | undefined {
    const key = this.published.get(kid);
    if (key?.retireAt !== undefined && key.retireAt <= Date.now()) return undefined;
    return key;
  }

  /** Public key by kid; an unknown kid triggers at most one reload per cooldown (a rotation by another replica). */
  async publicJwk(kid: string): Promise<PublishedKey | undefined> {
    const found = this.publishedKey(kid);
    if (found) return found;
    if (Date.now() - this.lastReload < RELOAD_COOLDOWN_MS) return undefined;
    await this.reload();
    return this.publishedKey(kid);
  }

  jwks(): { keys: JWK[] } {
    return { keys: [...this.published.keys()].flatMap((kid) => this.publishedKey(kid)?.jwk ?? []) };
  }

  get algorithms(): string[] {
    return ['RS256', 'ES256'];
  }

  /** A JWT of the claims plus `iat`, `exp` and a fresh `jti`, signed with the active key. */
  async sign(claims: JWTPayload, ttlSeconds: number): Promise<string> {
    if (!this.active) await this.reload();
    const { kid, alg, privateKey } = this.active!;
    const iat = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims, iat, exp: iat + ttlSeconds, jti: randomUUID() })
      .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
      .sign(privateKey);
  }
}
