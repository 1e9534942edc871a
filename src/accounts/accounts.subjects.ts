import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SubjectDirectory } from '../permissions/subject-directory.service';
import { ActivationRecord } from './activation/activation-record.entity';
import { AuditEvent } from './audit/audit-event.entity';

/** Tells the permissions module how to look up audit events and activation records (introspection). */
@Injectable()
export class AccountsSubjects implements OnModuleInit {
  constructor(
    private readonly subjects: SubjectDirectory,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.subjects.registerEntity('AuditEvent', this.db, AuditEvent, ['organizationId']);
    this.subjects.registerEntity('ActivationRecord', this.db, ActivationRecord, ['organizationId']);
  }
}
