import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { CourseAccountsModule } from '../course-accounts/course-accounts.module';
import { EventsModule } from '../events/events.module';
import { JobsModule } from '../jobs/jobs.module';
import { DeclaresJobQueues } from '../jobs/queue/job-queues';
import { PermissionsModule } from '../permissions/permissions.module';
import { MailController } from './mail.controller';
import { MAIL_QUEUE } from './mail.jobs';
import { Mailer } from './mailer';
import { MailTemplate } from './mail-template.entity';
import { ParticipantEmail } from './participant-email.entity';
import { NoticeMailService } from './notice-mail.service';
import { ParticipantMailService } from './participant-mail.service';
import { SendParticipantEmailProcessor } from './send-email.processor';
import { SendNoticeEmailProcessor } from './send-notice.processor';

/** Participant e-mails of course accounts, and notices to organization admins, over SMTP. See README.md here. */
@DeclaresJobQueues(MAIL_QUEUE)
@Module({
  imports: [
    TypeOrmModule.forFeature([MailTemplate, ParticipantEmail]),
    AccountsModule,
    PermissionsModule,
    EventsModule,
    JobsModule,
    CourseAccountsModule,
  ],
  controllers: [MailController],
  providers: [
    Mailer,
    ParticipantMailService,
    SendParticipantEmailProcessor,
    NoticeMailService,
    SendNoticeEmailProcessor,
  ],
  exports: [NoticeMailService],
})
export class MailModule {}
