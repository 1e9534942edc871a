import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { AppModule } from './app.module';
import { BootstrapAdminService } from './accounts/users/bootstrap-admin.service';
import { SigningKeysService } from './accounts/keys/signing-keys.service';
import { loadSettings, SettingsError } from './config/load-settings';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from './database/embedded-postgres';
import { describeStartupError } from './startup-errors';

const USAGE = `Usage: npm run cli -- <command>

Commands:
  create-admin --username NAME [--password PASSWORD]   create a staff admin (password generated and printed when omitted)
  rotate-signing-key                                   make a new signing key active; running servers sign with it from their
                                                       next key reload, and the old one retires once their tokens have expired
  retire-signing-key --kid KID                         retire a rotated-out key now (a key that may have leaked): its tokens
                                                       are refused from each server's next key reload

With DATABASE_URL unset the command uses the embedded PostgreSQL in DATA_DIR (stop the server first).`;

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || command === '--help' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (!['create-admin', 'rotate-signing-key', 'retire-signing-key'].includes(command))
    throw new Error(`unknown command "${command}"\n${USAGE}`);
  const { values } = parseArgs({
    args: rest,
    options: { username: { type: 'string' }, password: { type: 'string' }, kid: { type: 'string' } },
  });
  if (command === 'retire-signing-key' && !values.kid) throw new Error('retire-signing-key needs --kid');

  const settings = await loadSettings({
    overrides: { MIGRATIONS_RUN: 'true', LOG_LEVEL: 'warn', BOOTSTRAP_ADMIN_PASSWORD: undefined },
  });
  let embedded: EmbeddedPostgresHandle | undefined;
  const quiet = { info: () => undefined, debug: () => undefined, warn: () => undefined };
  const databaseUrl = settings.DATABASE_URL ?? (embedded = await startEmbeddedPostgres(settings.DATA_DIR, quiet)).url;
  Logger.overrideLogger(false);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot({ settings, databaseUrl }), {
    logger: false,
  });
  try {
    if (command === 'create-admin') {
      if (!values.username) throw new Error('create-admin needs --username');
      const { username, generated } = await app
        .get(BootstrapAdminService)
        .createAdmin(values.username, values.password);
      if (!generated) process.stdout.write(`Created the staff admin "${username}".\n`);
    } else if (command === 'retire-signing-key') {
      await app.get(SigningKeysService).retire(values.kid!, { via: 'cli' });
      process.stdout.write(`Signing key ${values.kid} is retired.\n`);
      process.stdout.write(
        `Running servers refuse its tokens within SIGNING_KEYS_RELOAD_SECONDS (${settings.SIGNING_KEYS_RELOAD_SECONDS} s).\n`,
      );
    } else {
      const { kid, retiring, retireAfter } = await app.get(SigningKeysService).rotate({ via: 'cli' });
      const until = retiring.length ? ` (published until ${retireAfter.toISOString()})` : '';
      process.stdout.write(`New active signing key ${kid}; retiring: ${retiring.join(', ') || 'none'}${until}.\n`);
      process.stdout.write(
        `Running servers sign with it within SIGNING_KEYS_RELOAD_SECONDS (${settings.SIGNING_KEYS_RELOAD_SECONDS} s).\n`,
      );
    }
  } finally {
    await app.close();
    await embedded?.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`campus-access: ${e instanceof SettingsError ? e.message : describeStartupError(e)}\n`);
  process.exit(1);
});
