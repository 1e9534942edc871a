import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { AuditService } from '../audit/audit.service';
import { KeyEncryption } from './key-encryption';
import { resolveKeyEncryptionSecret } from './key-encryption-secret';
import { SigningKeyRing, SigningKeyRingDeps, SigningKeyRingOptions } from './signing-key-ring';
import { TransactionRunner } from '../../database/transaction';

export type { PublishedKey } from './signing-key-ring';

/**
 * The key rings' shared dependencies: the data source, the key encryption (KEY_ENCRYPTION_SECRET,
 * resolved once per process), the audit log. Other modules open a ring of their own purpose with
 * `open()` (the LTI tool keys do), so rotation, overlap and publication work the same for every key.
 */
@Injectable()
export class SigningKeyRings {
  readonly deps: SigningKeyRingDeps;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @InjectSettings() settings: Settings,
    audit: AuditService,
    logger: PinoLogger,
    transactions: TransactionRunner,
  ) {
    logger.setContext('SigningKeys');
    const resolved = resolveKeyEncryptionSecret(settings);
    if (resolved.generated) {
      logger.warn(
        { file: resolved.file },
        'KEY_ENCRYPTION_SECRET is not set: generated one in the data folder; set it in production',
      );
    }
    this.deps = { dataSource, transactions, encryption: new KeyEncryption(resolved.secret), audit, logger };
  }

  /** A ring of keys of one purpose; the caller starts it (`start()`) and stops it (`stop()`). */
  open(options: SigningKeyRingOptions): SigningKeyRing {
    return new SigningKeyRing(this.deps, options);
  }
}

/**
 * Our access-token signing keys: one active, older ones published while tokens they signed may still be in
 * use. Every process reloads them every SIGNING_KEYS_RELOAD_SECONDS, so a rotation made by the CLI or another
 * replica is signed with, and a retired key refused, everywhere within that time.
 */
@Injectable()
export class SigningKeysService extends SigningKeyRing implements OnModuleInit, OnModuleDestroy {
  constructor(rings: SigningKeyRings, @InjectSettings() settings: Settings) {
    super(rings.deps, {
      purpose: 'access_token',
      alg: () => settings.JWT_ALG,
      // A replica may go on signing with a replaced key until its next reload, and the last token it signs
      // then lives the longest token lifetime (plus the skew).
      retiringSeconds: () =>
        settings.SIGNING_KEYS_RELOAD_SECONDS +
        Math.max(
          settings.ACCESS_TOKEN_TTL_SECONDS,
          settings.SERVICE_TOKEN_TTL_SECONDS,
          settings.ACTIVATION_TOKEN_TTL_SECONDS,
          settings.LTI_SESSION_TTL_SECONDS,
        ) +
        settings.JWT_CLOCK_SKEW_SECONDS,
      reloadSeconds: settings.SIGNING_KEYS_RELOAD_SECONDS,
      typ: 'at+jwt',
    });
  }

  onModuleInit(): Promise<void> {
    return this.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.stop();
  }
}
