import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../../accounts/accounts.module';
import { JobsModule } from '../../jobs/jobs.module';
import { DeclaresJobQueues } from '../../jobs/queue/job-queues';
import { PermissionsModule } from '../../permissions/permissions.module';
import { RegistrarModule } from '../../registrar/registrar.module';
import { LtiModule } from '../lti.module';
import { AgsClient } from './ags/ags.client';
import { LtiAgsRepository } from './ags/lti-ags.repository';
import { LtiGradeSource } from './ags/lti-grade-source';
import { LtiResult } from './ags/lti-result.entity';
import { LtiScore } from './ags/lti-score.entity';
import { LtiScoresController } from './ags/lti-scores.controller';
import { LtiScoresService } from './ags/lti-scores.service';
import { PostScoreProcessor } from './ags/post-score.processor';
import { DeepLinkingApiController, DeepLinkingPageController } from './deep-linking/deep-linking.controller';
import { DeepLinkingService } from './deep-linking/deep-linking.service';
import {
  RegistrationLinksController,
  RegistrationPageController,
} from './dynamic-registration/dynamic-registration.controller';
import { DynamicRegistrationService } from './dynamic-registration/dynamic-registration.service';
import { LtiDeepLinkResponse } from './deep-linking/lti-deep-link-response.entity';
import { LtiRegistrationLink } from './dynamic-registration/lti-registration-link.entity';
import { LTI_QUEUE } from './lti-services.jobs';
import { LtiServiceSubjects } from './lti-service-subjects';
import { PlatformTokens } from './platform-tokens/platform-tokens.service';
import { LtiContextsController } from './nrps/lti-contexts.controller';
import { LtiRosterRepository } from './nrps/lti-roster.repository';
import { NrpsClient } from './nrps/nrps.client';
import { RosterSync } from './nrps/roster-sync';
import { RosterSyncProcessor, ScheduledRosterSyncProcessor } from './nrps/roster-sync.processor';
import { RosterSyncService } from './nrps/roster-sync.service';

/**
 * LTI Advantage: platform access tokens, grades (AGS), rosters (NRPS), deep linking and dynamic
 * registration, on top of the launch (LtiModule: platforms, tool keys, launch records). See README.md.
 */
@DeclaresJobQueues(LTI_QUEUE)
@Module({
  imports: [
    TypeOrmModule.forFeature([LtiScore, LtiResult, LtiRegistrationLink, LtiDeepLinkResponse]),
    AccountsModule,
    PermissionsModule,
    JobsModule,
    RegistrarModule,
    LtiModule,
  ],
  controllers: [
    LtiScoresController,
    LtiContextsController,
    DeepLinkingApiController,
    DeepLinkingPageController,
    RegistrationLinksController,
    RegistrationPageController,
  ],
  providers: [
    LtiServiceSubjects,
    PlatformTokens,
    AgsClient,
    LtiAgsRepository,
    LtiScoresService,
    PostScoreProcessor,
    LtiGradeSource,
    NrpsClient,
    LtiRosterRepository,
    RosterSync,
    RosterSyncService,
    RosterSyncProcessor,
    ScheduledRosterSyncProcessor,
    DeepLinkingService,
    DynamicRegistrationService,
  ],
  exports: [PlatformTokens],
})
export class LtiServicesModule {}
