import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SubjectDirectory } from '../permissions/subject-directory.service';
import { CourseAccount } from './course-account.entity';

/** Tells the permissions module how to look a course account up (introspection of what a caller may do with one). */
@Injectable()
export class CourseAccountSubjects implements OnModuleInit {
  constructor(
    private readonly subjects: SubjectDirectory,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.subjects.registerEntity('CourseAccount', this.db, CourseAccount, ['organizationId', 'projectId']);
  }
}
