import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, EntityManager } from 'typeorm';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { AuditService } from '../audit/audit.service';
import { randomSecret } from '../../common/crypto/secrets';
import { UsersService } from './users.service';
import { queryRows } from '../../database/query';
import { TransactionRunner } from '../../database/transaction';

/** On first start (no user at all) creates a staff admin, so a fresh install can be logged into. */
@Injectable()
export class BootstrapAdminService implements OnApplicationBootstrap {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    @InjectSettings() private readonly settings: Settings,
    private readonly logger: PinoLogger,
    private readonly transactions: TransactionRunner,
  ) {
    this.logger.setContext(BootstrapAdminService.name);
  }

  async onApplicationBootstrap(): Promise<void> {
    // Test databases start empty on purpose; only create an admin there when asked to.
    if (this.settings.NODE_ENV === 'test' && !this.settings.BOOTSTRAP_ADMIN_PASSWORD) return;
    if ((await this.users.count()) > 0) return;
    // Replicas starting together on an empty database: one creates the admin, the others see it.
    await this.transactions.run(async (tx) => {
      await queryRows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', ['campus-access:bootstrap-admin']);
      const [{ any }] = await queryRows<{ any: boolean }>(tx, 'SELECT EXISTS (SELECT 1 FROM users) AS any');
      if (any) return;
      await this.createAdmin(this.settings.BOOTSTRAP_ADMIN_USERNAME, this.settings.BOOTSTRAP_ADMIN_PASSWORD, tx);
    });
  }

  /** Creates a staff admin; a generated password is printed once to stdout, never logged. */
  async createAdmin(
    username: string,
    password?: string,
    tx?: EntityManager,
  ): Promise<{ username: string; generated: boolean }> {
    const generated = !password;
    const secret = password ?? randomSecret(18);
    const user = await this.users.insert(
      { username, password: secret, isStaff: true, firstName: 'Campus Access', lastName: 'Administrator' },
      tx,
    );
    await this.audit.record(
      {
        action: 'user.bootstrap_admin',
        actor: { type: 'system' },
        subjectType: 'User',
        subjectId: user.id,
        data: { username },
      },
      tx,
    );
    this.logger.info({ username }, 'created staff admin');
    if (generated) {
      process.stdout.write(
        `\nCreated the staff admin "${username}" with the generated password:\n\n    ${secret}\n\nIt is shown only this once; log in at POST /api/v1/auth/login and change it with POST /api/v1/auth/password.\n\n`,
      );
    }
    return { username, generated };
  }
}
