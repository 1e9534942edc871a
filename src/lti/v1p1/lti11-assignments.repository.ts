import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { pageWindow } from '../../common/pagination/pagination';
import { queryRows } from '../../database/query';
import type { AppAbility } from '../../permissions/ability';
import { scopeToAbility } from '../../permissions/ability-to-sql';
import type { LtiAssignmentQuery } from './outcomes/lti-assignment.dto';
import { DeliveryState, LtiGradedAssignment, OutcomeOperation } from './lti-graded-assignment.entity';

/** A graded assignment with the outcome service URL and consumer it is sent to. */
export interface AssignmentTarget {
  assignment: LtiGradedAssignment;
  consumerId: string;
  serviceUrl: string;
}

/** The `lti_outcome_services` and `lti_graded_assignments` tables. */
@Injectable()
export class Lti11AssignmentsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The outcome service and the user's graded assignment a launch names, created or kept in line
   * (project, resource link, user) in the launch's transaction; the assignment's id.
   */
  async record(
    tx: EntityManager,
    values: {
      consumerId: string;
      serviceUrl: string;
      sourcedid: string;
      organizationId: string;
      projectId: string | null;
      userId: string;
      resourceLinkId: string;
    },
  ): Promise<string> {
    const [service]: { id: string }[] = await queryRows(
      tx,
      `WITH written AS (
         INSERT INTO lti_outcome_services (consumer_id, lis_outcome_service_url) VALUES ($1, $2)
         ON CONFLICT (consumer_id, lis_outcome_service_url) DO NOTHING RETURNING id)
       SELECT id FROM written
       UNION ALL
       SELECT id FROM lti_outcome_services WHERE consumer_id = $1 AND lis_outcome_service_url = $2
         AND NOT EXISTS (SELECT 1 FROM written)`,
      [values.consumerId, values.serviceUrl],
    );
    const [assignment]: { id: string }[] = await queryRows(
      tx,
      `INSERT INTO lti_graded_assignments
         (organization_id, project_id, user_id, outcome_service_id, lis_result_sourcedid, resource_link_id)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (outcome_service_id, lis_result_sourcedid) DO UPDATE
         SET project_id = EXCLUDED.project_id, user_id = EXCLUDED.user_id,
             resource_link_id = EXCLUDED.resource_link_id, updated_at = now()
       RETURNING id`,
      [values.organizationId, values.projectId, values.userId, service.id, values.sourcedid, values.resourceLinkId],
    );
    return assignment.id;
  }

  /** A page of the assignments the ability may read, scoped in SQL, newest first. */
  list(ability: AppAbility, q: LtiAssignmentQuery): Promise<[LtiGradedAssignment[], number]> {
    const { offset, pageSize } = pageWindow(q);
    const qb = this.db
      .getRepository(LtiGradedAssignment)
      .createQueryBuilder('a')
      .orderBy('a.created_at', 'DESC')
      .addOrderBy('a.id', 'ASC')
      .offset(offset)
      .limit(pageSize);
    scopeToAbility(qb, ability, 'read', 'LtiAssignment', 'a');
    if (q.project) qb.andWhere('a.project_id = :project', { project: q.project });
    if (q.user) qb.andWhere('a.user_id = :user', { user: q.user });
    if (q.state) qb.andWhere('a.state = :state', { state: q.state });
    return qb.getManyAndCount();
  }

  findById(id: string, tx?: EntityManager): Promise<LtiGradedAssignment | null> {
    return (tx ?? this.db.manager).findOneBy(LtiGradedAssignment, { id });
  }

  /** The assignment with its service URL and consumer, for a delivery. */
  async target(id: string): Promise<AssignmentTarget | null> {
    const assignment = await this.findById(id);
    if (!assignment) return null;
    const [service]: { consumer_id: string; lis_outcome_service_url: string }[] = await queryRows(
      this.db,
      'SELECT consumer_id, lis_outcome_service_url FROM lti_outcome_services WHERE id = $1',
      [assignment.outcomeServiceId],
    );
    return service
      ? { assignment, consumerId: service.consumer_id, serviceUrl: service.lis_outcome_service_url }
      : null;
  }

  lock(id: string, tx: EntityManager): Promise<LtiGradedAssignment | null> {
    return tx.findOne(LtiGradedAssignment, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** A new request (replace with a score, or delete): the next revision, pending. */
  async request(
    tx: EntityManager,
    id: string,
    operation: OutcomeOperation,
    score: number | null,
  ): Promise<LtiGradedAssignment> {
    await queryRows(
      tx,
      `UPDATE lti_graded_assignments
       SET operation = $2, score = $3, state = 'pending', revision = revision + 1, attempts = 0, last_error = NULL,
           requested_at = now(), updated_at = now()
       WHERE id = $1`,
      [id, operation, score],
    );
    return (await this.findById(id, tx))!;
  }

  async setJob(tx: EntityManager, id: string, jobId: string): Promise<void> {
    await tx.update(LtiGradedAssignment, { id }, { jobId });
  }

  /** The outcome of one attempt at delivering `revision`; nothing changes once a newer request exists. */
  async attempted(id: string, revision: number, state: DeliveryState, error: string | null): Promise<boolean> {
    const rows = await queryRows(
      this.db,
      `UPDATE lti_graded_assignments
       SET state = $3::varchar, attempts = attempts + 1, last_error = $4::text,
           delivered_at = CASE WHEN $3::varchar = 'delivered' THEN now() ELSE delivered_at END, updated_at = now()
       WHERE id = $1 AND revision = $2
       RETURNING id`,
      [id, revision, state, error],
    );
    return rows.length > 0;
  }

  /** A delivery that ended without a run seeing it through (out of attempts, canceled): failed, unless superseded. */
  async abandon(id: string, revision: number, error: string): Promise<void> {
    await queryRows(
      this.db,
      `UPDATE lti_graded_assignments SET state = 'failed', last_error = coalesce(last_error, $3::text), updated_at = now()
       WHERE id = $1 AND revision = $2 AND state = 'pending'`,
      [id, revision, error],
    );
  }
}
