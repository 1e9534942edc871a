import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query';
import { SubjectDirectory } from '../../permissions/subject-directory.service';

/** Tells the permissions module how to look up LTI scores and contexts (for introspection of what a caller may do). */
@Injectable()
export class LtiServiceSubjects implements OnModuleInit {
  constructor(
    private readonly subjects: SubjectDirectory,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.subjects.register('LtiScore', async (id) => {
      const [row] = await queryRows<{ organization_id: string; project_id: string }>(
        this.db,
        'SELECT organization_id, project_id FROM lti_scores WHERE id = $1',
        [id],
      );
      return row ? { organizationId: row.organization_id, projectId: row.project_id } : null;
    });
    this.subjects.register('LtiContext', async (id) => {
      const [row] = await queryRows<{ organization_id: string; project_id: string }>(
        this.db,
        `SELECT p.organization_id, c.project_id FROM lti_contexts c JOIN lti_platforms p ON p.id = c.platform_id
         WHERE c.id = $1`,
        [id],
      );
      return row ? { id, organizationId: row.organization_id, projectId: row.project_id } : null;
    });
  }
}
