import type { Principal } from '../../common/auth/principal';
import type { JobContext } from '../../jobs/processors/job-processor';

/** The owner of a job as the actor of what it does. */
export function jobActor(ctx: JobContext<object>): Principal {
  return {
    type: ctx.owner.type,
    id: ctx.owner.id,
    name: '',
    tokenKind: 'user',
    scopes: [],
    isStaff: false,
    isSupport: false,
  };
}
