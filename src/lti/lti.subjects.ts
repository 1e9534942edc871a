import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SubjectDirectory } from '../permissions/subject-directory.service';
import { LtiPlatform } from './platforms/lti-platform.entity';

/** Tells the permissions module how to look an LTI platform up (introspection of what a caller may do with one). */
@Injectable()
export class LtiSubjects implements OnModuleInit {
  constructor(
    private readonly subjects: SubjectDirectory,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.subjects.registerEntity('LtiPlatform', this.db, LtiPlatform, ['organizationId']);
  }
}
