import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SubjectDirectory } from '../permissions/subject-directory.service';
import { Program } from './program.entity';

/** Makes programs known to the permissions module: program-scope groups and introspection work on them. */
@Injectable()
export class RegistrarSubjects implements OnModuleInit {
  constructor(
    private readonly subjects: SubjectDirectory,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.subjects.registerEntity('Program', this.db, Program, ['organizationId']);
  }
}
