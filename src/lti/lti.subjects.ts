import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SubjectDirectory } from '../permissions/subject-directory.service';
import { LtiPlatform } from './platforms/lti-platform.entity';
import { LtiConsumer } from './v1p1/lti-consumer.entity';
import { LtiGradedAssignment } from './v1p1/lti-graded-assignment.entity';

/** Tells the permissions module how to look an LTI platform, consumer or graded assignment up (introspection of what a caller may do with one). */
@Injectable()
export class LtiSubjects implements OnModuleInit {
  constructor(
    private readonly subjects: SubjectDirectory,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.subjects.registerEntity('LtiPlatform', this.db, LtiPlatform, ['organizationId']);
    this.subjects.registerEntity('LtiConsumer', this.db, LtiConsumer, ['organizationId']);
    this.subjects.registerEntity('LtiAssignment', this.db, LtiGradedAssignment, ['organizationId', 'projectId']);
  }
}
