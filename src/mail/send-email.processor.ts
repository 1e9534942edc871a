import { AbandonedJob, JobContext, JobProcessor, ProcessesJob } from '../jobs/processors/job-processor';
import { SEND_PARTICIPANT_EMAIL_JOB, SendParticipantEmailPayload } from './mail.jobs';
import { ParticipantMailService } from './participant-mail.service';

@ProcessesJob(SEND_PARTICIPANT_EMAIL_JOB)
export class SendParticipantEmailProcessor implements JobProcessor<SendParticipantEmailPayload> {
  constructor(private readonly mail: ParticipantMailService) {}

  process(ctx: JobContext<SendParticipantEmailPayload>): Promise<void> {
    return this.mail.send(ctx.payload.emailId);
  }

  abandoned(job: AbandonedJob<SendParticipantEmailPayload>): Promise<void> {
    return this.mail.giveUp(job.payload.emailId, job.error);
  }
}
