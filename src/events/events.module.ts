import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventOutbox } from './event-outbox';
import { MembershipEventsListener } from './membership-events.listener';
import { OutboxEvent } from './outbox-event.entity';
import { OutboxRelay } from './outbox-relay';

/** The outbox of domain events and its relay to consumers. See README.md here. */
@Module({
  imports: [TypeOrmModule.forFeature([OutboxEvent])],
  providers: [EventOutbox, OutboxRelay, MembershipEventsListener],
  exports: [EventOutbox, OutboxRelay],
})
export class EventsModule {}
