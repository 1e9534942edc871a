import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { MemoryThrottlerStorage } from '../common/throttling/memory-throttler-storage';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SETTINGS } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { ActivationRecord } from './activation/activation-record.entity';
import { ActivationController } from './activation/activation.controller';
import { ActivationCodesService } from './activation/activation-codes.service';
import { ActivationService } from './activation/activation.service';
import { AuditEvent } from './audit/audit-event.entity';
import { AuditEventsController } from './audit/audit-events.controller';
import { AuditService } from './audit/audit.service';
import { TokenIssuanceAudit } from './audit/token-issuance-audit';
import { AuthController } from './auth/auth.controller';
import { AuthSessionController } from './auth/auth-session.controller';
import { AuthService } from './auth/auth.service';
import { AuthenticationGuard } from './auth/authentication.guard';
import { BearerTokenStrategy } from './auth/bearer-token.strategy';
import { PrincipalLookup } from './auth/principal-lookup';
import { RateLimiter } from './auth/rate-limiter';
import { RefreshToken } from './auth/refresh-token.entity';
import { RevokedAccessToken } from './auth/revoked-access-token.entity';
import { TokenIssuer } from './auth/token-issuer.service';
import { TokenVerifier } from './auth/token-verifier.service';
import { ExternalIdentity } from './external/external-identity.entity';
import { ExternalUsersService } from './external/external-users.service';
import { SigningKey } from './keys/signing-key.entity';
import { SigningKeyRings, SigningKeysService } from './keys/signing-keys.service';
import { ClientAssertionJti } from './oauth/client-assertion-jti.entity';
import { ClientAssertionVerifier } from './oauth/client-assertion.service';
import { OAuthController } from './oauth/oauth.controller';
import { OAuthService } from './oauth/oauth.service';
import { TokenIntrospection } from './oauth/token-introspection.service';
import { TokenRevocation } from './oauth/token-revocation.service';
import { Organization } from './organizations/organization.entity';
import { OrganizationsController } from './organizations/organizations.controller';
import { OrganizationsService } from './organizations/organizations.service';
import { Project } from './projects/project.entity';
import { ProjectsController } from './projects/projects.controller';
import { ProjectsService } from './projects/projects.service';
import { ServiceAccount, ServiceAccountSecret } from './service-accounts/service-account.entity';
import { ServiceAccountsController } from './service-accounts/service-accounts.controller';
import { ServiceAccountsService } from './service-accounts/service-accounts.service';
import { BootstrapAdminService } from './users/bootstrap-admin.service';
import { AccountsScopeResolverModule } from './permissions-bridge/accounts-scope-resolver';
import { PermissionsAuditListener } from './permissions-bridge/permissions-audit.listener';
import { PermissionsModule } from '../permissions/permissions.module';
import { OrganizationsRepository } from './organizations/organizations.repository';
import { ProjectsRepository } from './projects/projects.repository';
import { ProjectMembersRepository } from './projects/project-members.repository';
import { ServiceAccountsRepository } from './service-accounts/service-accounts.repository';
import { UsersRepository } from './users/users.repository';
import { AccountsSubjects } from './accounts.subjects';
import { User } from './users/user.entity';
import { UsersController } from './users/users.controller';
import { UsersService } from './users/users.service';

@Module({
  imports: [
    AccountsScopeResolverModule,
    PermissionsModule,
    EventsModule,
    TypeOrmModule.forFeature([
      Organization,
      Project,
      User,
      ExternalIdentity,
      ServiceAccount,
      ServiceAccountSecret,
      SigningKey,
      RefreshToken,
      RevokedAccessToken,
      ClientAssertionJti,
      ActivationRecord,
      AuditEvent,
    ]),
    // Attempt counters live in Redis when it is configured, so limits hold across replicas.
    ThrottlerModule.forRootAsync({
      inject: [SETTINGS],
      useFactory: (settings: Settings) => ({
        throttlers: [{ name: 'default', ttl: 60_000, limit: 1_000_000 }],
        storage: settings.REDIS_URL
          ? new ThrottlerStorageRedisService(settings.REDIS_URL)
          : new MemoryThrottlerStorage(),
      }),
    }),
  ],
  controllers: [
    AuthController,
    AuthSessionController,
    OAuthController,
    OrganizationsController,
    ProjectsController,
    UsersController,
    ServiceAccountsController,
    ActivationController,
    AuditEventsController,
  ],
  providers: [
    OrganizationsRepository,
    ProjectsRepository,
    ProjectMembersRepository,
    ServiceAccountsRepository,
    UsersRepository,
    SigningKeyRings,
    SigningKeysService,
    TokenIssuer,
    TokenVerifier,
    AuditService,
    TokenIssuanceAudit,
    RateLimiter,
    UsersService,
    OrganizationsService,
    ProjectsService,
    ServiceAccountsService,
    ExternalUsersService,
    AuthService,
    OAuthService,
    TokenRevocation,
    TokenIntrospection,
    ClientAssertionVerifier,
    ActivationService,
    ActivationCodesService,
    BootstrapAdminService,
    PermissionsAuditListener,
    BearerTokenStrategy,
    PrincipalLookup,
    AccountsSubjects,
    { provide: APP_GUARD, useClass: AuthenticationGuard },
  ],
  exports: [
    UsersService,
    OrganizationsService,
    ProjectsService,
    ServiceAccountsService,
    AuditService,
    SigningKeysService,
    SigningKeyRings,
    TokenIssuer,
    TokenVerifier,
    BootstrapAdminService,
    PrincipalLookup,
  ],
})
export class AccountsModule {}
