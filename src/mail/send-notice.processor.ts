import { JobContext, JobProcessor, ProcessesJob } from '../jobs/processors/job-processor';
import { SEND_NOTICE_EMAIL_JOB, SendNoticeEmailPayload } from './mail.jobs';
import { NoticeMailService } from './notice-mail.service';

@ProcessesJob(SEND_NOTICE_EMAIL_JOB)
export class SendNoticeEmailProcessor implements JobProcessor<SendNoticeEmailPayload> {
  constructor(private readonly notices: NoticeMailService) {}

  process(ctx: JobContext<SendNoticeEmailPayload>): Promise<void> {
    return this.notices.send(ctx.jobId, ctx.payload);
  }
}
