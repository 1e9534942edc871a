import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SubjectDirectory } from '../permissions/subject-directory.service';
import { WebhookSubscription } from './webhook-subscription.entity';

/** Tells the permissions module how to look a webhook subscription up. */
@Injectable()
export class WebhookSubjects implements OnModuleInit {
  constructor(
    private readonly subjects: SubjectDirectory,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.subjects.registerEntity('Webhook', this.db, WebhookSubscription, ['organizationId']);
  }
}
