import { Module } from '@nestjs/common';
import { AUTHORIZATION_GUARD } from './authorization.guard';
import { PermissionsModule } from './permissions.module';

/**
 * Registers the global AuthorizationGuard. Nest runs APP_GUARD providers in the order their modules
 * are registered, so AppModule imports this module after AccountsModule (whose AuthenticationGuard
 * must run first). Nothing else imports it, so its place in AppModule's imports is its place in
 * the guard chain; test/e2e/permissions-guard.e2e-spec.ts checks the order on the real app.
 */
@Module({
  imports: [PermissionsModule],
  providers: [AUTHORIZATION_GUARD],
})
export class AuthorizationModule {}
