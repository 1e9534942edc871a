import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { CourseAccountsModule } from '../course-accounts/course-accounts.module';
import { JobsModule } from '../jobs/jobs.module';
import { PermissionsModule } from '../permissions/permissions.module';
import { RedisConnection } from '../common/redis/redis-connection';
import { LtiToolKeysService } from './keys/lti-tool-keys.service';
import { IdTokenValidator } from './launch/id-token.validator';
import { LtiFrameAncestors } from './launch/lti-frame-ancestors';
import { LtiLogin } from './launch/lti-login.entity';
import { LtiLoginsRepository } from './launch/lti-logins.repository';
import { LtiLoginsPurge } from './launch/lti-logins.purge';
import { LtiToolController } from './launch/lti-tool.controller';
import { LtiToolService } from './launch/lti-tool.service';
import { PlatformKeys } from './launch/platform-keys';
import { LtiSubjects } from './lti.subjects';
import { LtiPlatform } from './platforms/lti-platform.entity';
import { LtiPlatformsController } from './platforms/lti-platforms.controller';
import { LtiPlatformsRepository } from './platforms/lti-platforms.repository';
import { LtiPlatformsService } from './platforms/lti-platforms.service';
import { LtiContext } from './provisioning/lti-context.entity';
import { LtiIdentity } from './provisioning/lti-identity.entity';
import { LtiMembership } from './provisioning/lti-membership.entity';
import { LtiProvisioner } from './provisioning/lti-provisioner';
import { LtiProvisioningRepository } from './provisioning/lti-provisioning.repository';
import { LtiResourceLink } from './provisioning/lti-resource-link.entity';
import { LtiLaunch } from './sessions/lti-launch.entity';
import { LtiLaunchesRepository } from './sessions/lti-launches.repository';
import { LtiSessionsController } from './sessions/lti-sessions.controller';
import { LtiSessionsService } from './sessions/lti-sessions.service';
import { LTI11_ENTITIES, LTI11_CONTROLLERS, LTI11_PROVIDERS } from './v1p1/lti11.parts';

/** The LTI 1.3 tool and LTI 1.1 provider: registration, tool keys, launches, provisioning, sessions, LTI 1.1 outcomes. See README.md here. */
@Module({
  imports: [
    TypeOrmModule.forFeature([
      LtiPlatform,
      LtiLogin,
      LtiIdentity,
      LtiContext,
      LtiResourceLink,
      LtiMembership,
      LtiLaunch,
      ...LTI11_ENTITIES,
    ]),
    AccountsModule,
    PermissionsModule,
    CourseAccountsModule,
    JobsModule,
  ],
  controllers: [LtiPlatformsController, LtiToolController, LtiSessionsController, ...LTI11_CONTROLLERS],
  providers: [
    LtiSubjects,
    RedisConnection,
    LtiToolKeysService,
    LtiPlatformsRepository,
    LtiPlatformsService,
    LtiLoginsRepository,
    LtiLoginsPurge,
    PlatformKeys,
    LtiFrameAncestors,
    IdTokenValidator,
    LtiProvisioningRepository,
    LtiLaunchesRepository,
    LtiProvisioner,
    LtiToolService,
    LtiSessionsService,
    ...LTI11_PROVIDERS,
  ],
  exports: [
    LtiToolKeysService,
    LtiPlatformsService,
    LtiFrameAncestors,
    LtiPlatformsRepository,
    LtiProvisioningRepository,
    LtiLaunchesRepository,
  ],
})
export class LtiModule {}
