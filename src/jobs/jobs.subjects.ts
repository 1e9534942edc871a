import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SubjectDirectory } from '../permissions/subject-directory.service';
import { Job } from './job.entity';

/** Tells the permissions module how to look a job up (introspection of what a caller may do with one). */
@Injectable()
export class JobSubjects implements OnModuleInit {
  constructor(
    private readonly subjects: SubjectDirectory,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.subjects.registerEntity('Job', this.db, Job, ['ownerType', 'ownerId', 'organizationId']);
  }
}
