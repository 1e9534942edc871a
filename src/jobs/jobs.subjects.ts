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
    this.subjects.register('Job', async (id) => {
      const job = await this.db.getRepository(Job).findOne({ where: { id }, select: ['id', 'ownerType', 'ownerId', 'organizationId'] });
      return job && { id: job.id, ownerType: job.ownerType, ownerId: job.ownerId, organizationId: job.organizationId };
    });
  }
}
