import { Injectable } from '@nestjs/common';
import type { Principal } from '../../../common/auth/principal';
import { TransactionRunner } from '../../../database/transaction';
import { JobsService } from '../../../jobs/jobs.service';
import type { AppAbility } from '../../../permissions/ability';
import { requireAccess } from '../../../permissions/access';
import { LtiError } from '../../lti.errors';
import type { LtiGradedAssignment, OutcomeOperation } from '../lti-graded-assignment.entity';
import { LtiConsumersRepository } from '../lti-consumers.repository';
import { Lti11AssignmentsRepository } from '../lti11-assignments.repository';
import type { LtiAssignmentQuery } from './lti-assignment.dto';
import { SEND_OUTCOME_JOB } from './outcomes.job';

/**
 * Grades back to LTI 1.1 consumers: a score (or its removal) is recorded on the graded assignment as
 * its next revision and sent by a job, so the request answers at once (202) and a consumer that is
 * down gets the grade when it is back. Project managers and contributors of the course project (and
 * organization admins, staff) grade; the assignment shows how the delivery went.
 */
@Injectable()
export class LtiAssignmentsService {
  constructor(
    private readonly assignments: Lti11AssignmentsRepository,
    private readonly consumers: LtiConsumersRepository,
    private readonly jobs: JobsService,
    private readonly tx: TransactionRunner,
  ) {}

  list(ability: AppAbility, q: LtiAssignmentQuery): Promise<[LtiGradedAssignment[], number]> {
    return this.assignments.list(ability, q);
  }

  async get(ability: AppAbility, id: string): Promise<LtiGradedAssignment> {
    return requireAccess(ability, 'read', 'LtiAssignment', await this.assignments.findById(id));
  }

  /** replaceResult with `score` (0.0–1.0), or deleteResult with null. */
  async request(who: Principal, ability: AppAbility, id: string, score: number | null): Promise<LtiGradedAssignment> {
    const operation: OutcomeOperation = score === null ? 'delete' : 'replace';
    return this.tx.run(async (tx) => {
      const found = requireAccess(ability, 'update', 'LtiAssignment', await this.assignments.lock(id, tx));
      const target = await this.assignments.target(found.id);
      if (!target || !(await this.consumers.findLive(target.consumerId, tx)))
        throw new LtiError(
          'consumer_deleted',
          'The LTI consumer of this assignment was deleted: grades cannot be sent.',
        );
      const assignment = await this.assignments.request(tx, id, operation, score);
      const { id: jobId } = await this.jobs.enqueue(
        SEND_OUTCOME_JOB,
        {
          assignmentId: id,
          revision: assignment.revision,
          organizationId: assignment.organizationId,
          projectId: assignment.projectId,
        },
        { owner: who, organizationId: assignment.organizationId },
        tx,
      );
      await this.assignments.setJob(tx, id, jobId);
      return { ...assignment, jobId };
    });
  }
}
