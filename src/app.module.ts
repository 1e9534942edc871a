import { DynamicModule, Module, Type } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { LoggerModule } from 'nestjs-pino';
import { AccountsModule } from './accounts/accounts.module';
import type { DestinationStream } from 'pino';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { createValidationPipe } from './common/http/validation.pipe';
import { CourseAccountsModule } from './course-accounts/course-accounts.module';
import { loggerParams } from './common/logging/logging';
import { SettingsModule } from './config/settings.module';
import { Settings } from './config/settings.schema';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { LtiModule } from './lti/lti.module';
import { LtiServicesModule } from './lti/services/lti-services.module';
import { ConsoleModule } from './console/console.module';
import { declaredJobQueues } from './jobs/queue/job-queues';
import { JobQueuesModule } from './jobs/queue/job-queues.module';
import { AuthorizationModule } from './permissions/authorization.module';
import { MetricsModule } from './metrics/metrics.module';
import { RegistrarModule } from './registrar/registrar.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { MailModule } from './mail/mail.module';

export interface AppModuleOptions {
  settings: Settings;
  /** DATABASE_URL, or the URL of the embedded server started for this process. */
  databaseUrl: string;
  /** Where JSON logs go (default stdout); tests capture them here. */
  logStream?: DestinationStream;
  /** Further modules to mount (tests mount probe routes and job processors here; their `@DeclaresJobQueues` count). */
  extraImports?: (Type | DynamicModule)[];
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    const { settings } = options;
    const extra = options.extraImports ?? [];
    return {
      module: AppModule,
      imports: [
        SettingsModule.forRoot(settings),
        LoggerModule.forRoot(loggerParams(settings.LOG_LEVEL, options.logStream)),
        DatabaseModule.forRoot(options.databaseUrl),
        EventEmitterModule.forRoot(),
        HealthModule,
        AccountsModule,
        // After AccountsModule: global guards run in registration order, authentication first.
        AuthorizationModule,
        JobQueuesModule.forRoot(
          settings,
          declaredJobQueues([
            JobsModule,
            CourseAccountsModule,
            MailModule,
            WebhooksModule,
            RegistrarModule,
            LtiServicesModule,
            ...extra,
          ]),
        ),
        JobsModule,
        CourseAccountsModule,
        MailModule,
        WebhooksModule,
        RegistrarModule,
        LtiModule,
        LtiServicesModule,
        ConsoleModule,
        ...(settings.METRICS_ENABLED ? [MetricsModule] : []),
        ...extra,
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
