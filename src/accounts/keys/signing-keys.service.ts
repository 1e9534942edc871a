import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { CryptoKey, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, JWK, JWTPayload, SignJWT } from 'jose';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, In, LessThan, Repository } from 'typeorm';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { KeyEncryption } from './key-encryption';
import { resolveKeyEncryptionSecret } from './key-encryption-secret';
import { SigningKey } from './signing-key.entity';

interface ActiveKey {
  kid: string;
  alg: string;
  /** Imported once per key: jose signs with it for every token. */
  privateKey: CryptoKey;
}

const RELOAD_COOLDOWN_MS = 5_000;

/** Our signing keys: one active, older ones published while tokens they signed may still be in use. */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private readonly encryption: KeyEncryption;
  private active?: ActiveKey;
  private publicKeys = new Map<string, { alg: string; jwk: JWK }>();
  private lastReload = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(SigningKey) private readonly keys: Repository<SigningKey>,
    @InjectSettings() private readonly settings: Settings,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(SigningKeysService.name);
    const resolved = resolveKeyEncryptionSecret(settings);
    if (resolved.generated) {
      this.logger.warn({ file: resolved.file }, 'KEY_ENCRYPTION_SECRET is not set: generated one in the data folder; set it in production');
    }
    this.encryption = new KeyEncryption(resolved.secret);
  }

  async onModuleInit(): Promise<void> {
    await this.ensureActiveKey();
    await this.reload();
  }

  /** The longest lifetime of any token we sign: a retiring key stays published at least this long. */
  private get maxTokenTtlSeconds(): number {
    const s = this.settings;
    return Math.max(s.ACCESS_TOKEN_TTL_SECONDS, s.SERVICE_TOKEN_TTL_SECONDS, s.ACTIVATION_TOKEN_TTL_SECONDS) + s.JWT_CLOCK_SKEW_SECONDS;
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

  /** Creates the first key; an advisory lock keeps two replicas starting together from making two. */
  private async ensureActiveKey(): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['campus-access:signing-keys']);
      const count = await tx.count(SigningKey, { where: { status: 'active' } });
      if (count === 0) {
        const row = await tx.save(SigningKey, tx.create(SigningKey, await this.newKeyRow()));
        this.logger.info({ kid: row.kid, alg: row.alg }, 'created signing key');
      }
    });
  }

  /** Makes a new key active; the previous one is published until its tokens have expired, then retired. */
  async rotate(): Promise<{ kid: string; retiring: string[] }> {
    const result = await this.dataSource.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['campus-access:signing-keys']);
      const previous = await tx.find(SigningKey, { where: { status: 'active' } });
      const retireAfter = new Date(Date.now() + this.maxTokenTtlSeconds * 1000);
      if (previous.length) {
        await tx.update(SigningKey, { id: In(previous.map((k) => k.id)) }, { status: 'retiring', retireAfter });
      }
      const row = await tx.save(SigningKey, tx.create(SigningKey, await this.newKeyRow()));
      return { kid: row.kid, retiring: previous.map((k) => k.kid) };
    });
    this.lastReload = 0;
    await this.reload();
    return result;
  }

  /** Loads keys from the database (retiring expired ones). Other replicas pick up a rotation on their next reload. */
  async reload(): Promise<void> {
    this.lastReload = Date.now();
    await this.keys.update({ status: 'retiring', retireAfter: LessThan(new Date()) }, { status: 'retired' });
    const rows = await this.keys
      .createQueryBuilder('k')
      .addSelect('k.privateKeyEncrypted')
      .where('k.status IN (:...s)', { s: ['active', 'retiring'] })
      .orderBy('k.createdAt', 'DESC')
      .getMany();
    const active = rows.find((r) => r.status === 'active');
    if (!active) throw new Error('no active signing key');
    if (this.active?.kid !== active.kid) {
      const pem = this.encryption.decrypt(active.privateKeyEncrypted);
      this.active = { kid: active.kid, alg: active.alg, privateKey: await importPKCS8(pem, active.alg) };
    }
    this.publicKeys = new Map(rows.map((r) => [r.kid, { alg: r.alg, jwk: r.publicJwk as JWK }]));
  }

  /** Public key by kid; an unknown kid triggers at most one reload per cooldown (a rotation by another replica). */
  async publicJwk(kid: string): Promise<{ alg: string; jwk: JWK } | undefined> {
    const found = this.publicKeys.get(kid);
    if (found) return found;
    if (Date.now() - this.lastReload < RELOAD_COOLDOWN_MS) return undefined;
    await this.reload();
    return this.publicKeys.get(kid);
  }

  jwks(): { keys: JWK[] } {
    return { keys: [...this.publicKeys.values()].map((k) => k.jwk) };
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
