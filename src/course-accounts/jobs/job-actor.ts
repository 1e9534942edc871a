import type { Principal } from '../../common/auth/principal';
import type { JobContext } from '../../jobs/processors/job-processor';

/** The owner of a job as the actor of what it does. */
export function jobActor(job: Pick<JobContext<object>, 'owner'>): Principal {
  return {
    type: job.owner.type,
    id: job.owner.id,
    name: '',
    tokenKind: 'user',
    scopes: [],
    isStaff: false,
    isSupport: false,
  };
}
