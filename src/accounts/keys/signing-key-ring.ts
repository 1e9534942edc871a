import { randomUUID } from 'node:crypto';
import { CryptoKey, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, JWK, JWTPayload, SignJWT } from 'jose';
import type { PinoLogger } from 'nestjs-pino';
import { DataSource, EntityManager, In, LessThan } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import { queryRows } from '../../database/query';
import type { TransactionRunner } from '../../database/transaction';
import type { KeyEncryption } from './key-encryption';
import { SigningKey, SigningKeyPurpose } from './signing-key.entity';

export type { SigningKeyPurpose };

interface ActiveKey {
  kid: string;
  alg: string;
  /** Imported once per key: jose signs with it for every token. */
  privateKey: CryptoKey;
}

/** A key in a JWKS: the active one, or a retiring one until `retireAt`. */
export interface PublishedKey {
  alg: string;
  jwk: JWK;
  /** Epoch milliseconds after which the key is no longer published; unset for the active key. */
  retireAt?: number;
}

export interface SigningKeyRingOptions {
  /** Which keys of `signing_keys` this ring owns; rings of different purposes never see each other's keys. */
  purpose: SigningKeyPurpose;
  /** Algorithm of new keys. */
  alg: () => 'RS256' | 'ES256';
  /** How long a key replaced by a rotation stays published (and valid) before it is retired. */
  retiringSeconds: () => number;
  /** How often the ring reloads its keys from the database (a rotation made elsewhere). */
  reloadSeconds: number;
  /** The `typ` header of what it signs. */
  typ: string;
}

export interface SigningKeyRingDeps {
  dataSource: DataSource;
  transactions: TransactionRunner;
  encryption: KeyEncryption;
  audit: AuditService;
  logger: PinoLogger;
}

const RELOAD_COOLDOWN_MS = 5_000;

/**
 * A set of signing keys of one purpose: one active, older ones published while what they signed
 * may still be in use. Every process reloads them every `reloadSeconds`, so a rotation made by the
 * CLI or another replica is signed with, and a retired key refused, everywhere within that time.
 * Our access-token keys (SigningKeysService) and the LTI tool keys are two rings over the same table.
 */
export class SigningKeyRing {
  private active?: ActiveKey;
  private published = new Map<string, PublishedKey>();
  private lastReload = 0;
  private reloading?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private readonly withdrawnListeners: ((kids: ReadonlySet<string>) => void)[] = [];

  constructor(
    private readonly deps: SigningKeyRingDeps,
    private readonly options: SigningKeyRingOptions,
  ) {}

  get purpose(): SigningKeyPurpose {
    return this.options.purpose;
  }

  private get lockName(): string {
    return `campus-access:signing-keys:${this.options.purpose}`;
  }

  /** Audit data common to every event of this ring: the purpose, except for access-token keys (the original ring). */
  private get purposeData(): Record<string, string> {
    return this.options.purpose === 'access_token' ? {} : { purpose: this.options.purpose };
  }

  /** Makes the first key when there is none, loads the keys and reloads them periodically. */
  async start(): Promise<void> {
    await this.ensureActiveKey();
    await this.reload();
    this.timer = setInterval(() => void this.scheduledReload(), this.options.reloadSeconds * 1000).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // A reload still running would otherwise query a closing connection pool.
    await this.reloading?.catch(() => undefined);
  }

  get retiringSeconds(): number {
    return this.options.retiringSeconds();
  }

  private async newKeyRow(): Promise<Partial<SigningKey>> {
    const alg = this.options.alg();
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const kid = randomUUID();
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    return {
      kid,
      alg,
      purpose: this.options.purpose,
      publicJwk: jwk as Record<string, unknown>,
      privateKeyEncrypted: this.deps.encryption.encrypt(await exportPKCS8(privateKey)),
      status: 'active',
      retireAfter: null,
    };
  }

  private async createKey(tx: EntityManager): Promise<SigningKey> {
    return tx.save(SigningKey, tx.create(SigningKey, await this.newKeyRow()));
  }

  /** Creates the first key; an advisory lock keeps two replicas starting together from making two. */
  private async ensureActiveKey(): Promise<void> {
    await this.deps.transactions.run(async (tx) => {
      await queryRows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockName]);
      const count = await tx.count(SigningKey, { where: { status: 'active', purpose: this.options.purpose } });
      if (count === 0) {
        const row = await this.createKey(tx);
        await this.deps.audit.record(
          {
            action: 'signing_key.created',
            actor: { type: 'system' },
            subjectType: 'SigningKey',
            subjectId: row.kid,
            data: { kid: row.kid, alg: row.alg, ...this.purposeData },
          },
          tx,
        );
        this.deps.logger.info({ kid: row.kid, alg: row.alg, purpose: this.options.purpose }, 'created signing key');
      }
    });
  }

  /**
   * Makes a new key active. The previous one stays published for `retiringSeconds`, after which
   * nothing it signed is still in use; then it is retired. `via` names the tool that asked (the CLI)
   * in the audit event.
   */
  async rotate(options: { via?: string } = {}): Promise<{ kid: string; retiring: string[]; retireAfter: Date }> {
    const result = await this.deps.transactions.run(async (tx) => {
      await queryRows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockName]);
      const previous = await tx.find(SigningKey, { where: { status: 'active', purpose: this.options.purpose } });
      const retireAfter = new Date(Date.now() + this.retiringSeconds * 1000);
      if (previous.length) {
        await tx.update(SigningKey, { id: In(previous.map((k) => k.id)) }, { status: 'retiring', retireAfter });
      }
      const row = await this.createKey(tx);
      const retiring = previous.map((k) => k.kid);
      await this.deps.audit.record(
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
            ...this.purposeData,
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
   * (rotate first); what it signed is refused everywhere from each server's next key reload.
   */
  async retire(kid: string, options: { via?: string } = {}): Promise<void> {
    await this.deps.transactions.run(async (tx) => {
      await queryRows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockName]);
      const key = await tx.findOneBy(SigningKey, { kid, purpose: this.options.purpose });
      if (!key) throw new Error(`No signing key ${kid}.`);
      if (key.status === 'active')
        throw new Error(`Signing key ${kid} is the active key: rotate first, then retire it.`);
      if (key.status === 'retired') return;
      await tx.update(SigningKey, { id: key.id }, { status: 'retired' });
      await this.deps.audit.record(
        {
          action: 'signing_key.retired',
          actor: { type: 'system' },
          subjectType: 'SigningKey',
          subjectId: kid,
          data: { kid, reason: 'manual', ...this.purposeData, ...(options.via ? { via: options.via } : {}) },
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
      this.deps.logger.warn(
        { err: e, purpose: this.options.purpose },
        'could not reload the signing keys; keeping the current ones',
      );
    }
  }

  private async load(): Promise<void> {
    this.lastReload = Date.now();
    const purpose = this.options.purpose;
    // Every replica runs this; the one whose UPDATE retires a key records it, in the same transaction.
    await this.deps.transactions.run(async (tx) => {
      const expired: { kid: string }[] = (
        await tx
          .createQueryBuilder()
          .update(SigningKey)
          .set({ status: 'retired' })
          .where({ status: 'retiring', purpose, retireAfter: LessThan(new Date()) })
          .returning(['kid'])
          .execute()
      ).raw;
      if (expired.length === 0) return;
      await this.deps.audit.recordMany(
        expired.map(({ kid }) => ({
          action: 'signing_key.retired',
          actor: { type: 'system' },
          subjectType: 'SigningKey',
          subjectId: kid,
          data: { kid, reason: 'expired', ...this.purposeData },
        })),
        tx,
      );
    });
    const rows = await this.deps.dataSource
      .getRepository(SigningKey)
      .createQueryBuilder('k')
      .addSelect('k.privateKeyEncrypted')
      .where('k.status IN (:...s) AND k.purpose = :purpose', { s: ['active', 'retiring'], purpose })
      .orderBy('k.createdAt', 'DESC')
      .getMany();
    const activeRow = rows.find((r) => r.status === 'active');
    if (!activeRow) throw new Error(`no active signing key (${purpose})`);
    const active =
      this.active?.kid === activeRow.kid
        ? this.active
        : {
            kid: activeRow.kid,
            alg: activeRow.alg,
            privateKey: await importPKCS8(this.deps.encryption.decrypt(activeRow.privateKeyEncrypted), activeRow.alg),
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

  /** The published keys (active and retiring), newest first. */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.published.keys()].flatMap((kid) => this.publishedKey(kid)?.jwk ?? []) };
  }

  /** The active key's id. */
  get activeKid(): string | undefined {
    return this.active?.kid;
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
      .setProtectedHeader({ alg, kid, typ: this.options.typ })
      .sign(privateKey);
  }
}
