import { Injectable } from '@nestjs/common';
import type { Principal } from '../../common/auth/principal';
import type { AppAbility } from '../../permissions/ability';
import { requireAccess } from '../../permissions/access';
import { SubjectDirectory } from '../../permissions/subject-directory.service';
import { JobView } from '../dto/job.dto';
import { JobsService } from '../jobs.service';
import { USERS_EXPORT } from './users-export.job';

/** Starts exports of an organization's users for callers allowed to export them. */
@Injectable()
export class UsersExportService {
  constructor(
    private readonly jobs: JobsService,
    private readonly subjects: SubjectDirectory,
  ) {}

  /**
   * The permission the job keeps requiring of its owner, checked first: an organization that does
   * not exist, or whose users the caller cannot see, is 404; one it sees without the export right, 403.
   */
  async start(who: Principal, ability: AppAbility, organizationId: string): Promise<JobView> {
    const permission = USERS_EXPORT.requires!({ organizationId });
    const exists = (await this.subjects.load('Organization', organizationId)) !== null;
    requireAccess(ability, permission.action, permission.subject, exists ? permission.object : null, {
      message: 'Organization not found.',
    });
    const { id } = await this.jobs.enqueue(USERS_EXPORT, { organizationId }, { owner: who, organizationId });
    return this.jobs.get(ability, id);
  }
}
