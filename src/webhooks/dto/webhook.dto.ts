import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
} from 'class-validator';
import { PageQuery } from '../../common/pagination/pagination';
import { EVENT_PATTERN } from '../event-patterns';
import type { WebhookAttempt } from '../webhook-attempt.entity';
import { DELIVERY_STATES, DeliveryState, WebhookDelivery } from '../webhook-delivery.entity';
import type { WebhookSubscription } from '../webhook-subscription.entity';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateWebhookDto {
  @ApiProperty({ format: 'uuid', description: 'The organization whose events the subscription receives.' })
  @IsUUID()
  organization: string;

  @ApiProperty({
    example: 'https://agent.example.edu/hooks/campus-access',
    description: 'https (http only for loopback hosts, or with WEBHOOK_ALLOW_HTTP).',
  })
  @Transform(trim)
  @IsString()
  @MaxLength(2000)
  url: string;

  @ApiProperty({ type: [String], example: ['course_account.*', 'project.deleted'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(EVENT_PATTERN, { each: true, message: 'each event type must be a type, `prefix.*` or `*`' })
  event_types: string[];

  @ApiPropertyOptional({ default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(2000)
  url?: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(EVENT_PATTERN, { each: true, message: 'each event type must be a type, `prefix.*` or `*`' })
  event_types?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ description: 'Turning a subscription on again resumes its waiting deliveries.' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class WebhookQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  organization?: string;
}

export class DeliveryQuery extends PageQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATES })
  @IsOptional()
  @IsIn(DELIVERY_STATES)
  state?: DeliveryState;
}

export class WebhookView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) organization: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: [String] }) event_types: string[];
  @ApiProperty() description: string;
  @ApiProperty() active: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Why the application disabled it.' })
  disabled_reason: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'Until then the previous secret signs too.',
  })
  previous_secret_expires_at: string | null;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ format: 'date-time' }) modified: string;

  static of(w: WebhookSubscription): WebhookView {
    return {
      id: w.id,
      organization: w.organizationId,
      url: w.url,
      event_types: w.eventTypes,
      description: w.description,
      active: w.active,
      disabled_reason: w.disabledReason,
      previous_secret_expires_at: w.previousSecretExpiresAt ? new Date(w.previousSecretExpiresAt).toISOString() : null,
      created: new Date(w.createdAt).toISOString(),
      modified: new Date(w.updatedAt).toISOString(),
    };
  }
}

/** The answer of a creation and a rotation: the only time the secret is shown. */
export class WebhookWithSecretView extends WebhookView {
  @ApiProperty({ description: 'The Standard Webhooks signing secret (`whsec_…`). Shown once; keep it.' })
  secret: string;

  static withSecret(w: WebhookSubscription, secret: string): WebhookWithSecretView {
    return { ...WebhookView.of(w), secret };
  }
}

export class WebhookPage {
  @ApiProperty() count: number;
  @ApiProperty({ nullable: true, type: String }) next: string | null;
  @ApiProperty({ nullable: true, type: String }) previous: string | null;
  @ApiProperty({ type: [WebhookView] }) results: WebhookView[];
}

export class AttemptView {
  @ApiProperty({ format: 'date-time' }) time: string;
  @ApiProperty({ nullable: true, type: Number, description: 'Null when no answer came.' }) status: number | null;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({ description: 'The start of the answer body.' }) response_excerpt: string;
  @ApiProperty() duration_ms: number;

  static of(a: WebhookAttempt): AttemptView {
    return {
      time: new Date(a.createdAt).toISOString(),
      status: a.status,
      error: a.error,
      response_excerpt: a.responseExcerpt,
      duration_ms: a.durationMs,
    };
  }
}

export class DeliveryView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', description: 'The `webhook-id` header: the event id.' }) event_id: string;
  @ApiProperty() event_type: string;
  @ApiProperty({ format: 'uuid' }) subject_id: string;
  @ApiProperty({ enum: DELIVERY_STATES }) state: DeliveryState;
  @ApiProperty() attempt_count: number;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) delivered_at: string | null;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ type: [AttemptView] }) attempts: AttemptView[];

  static of(d: WebhookDelivery & { attemptLog?: WebhookAttempt[] }): DeliveryView {
    return {
      id: d.id,
      event_id: d.eventId,
      event_type: d.eventType,
      subject_id: d.subjectId,
      state: d.state,
      attempt_count: d.attempts,
      error: d.error,
      delivered_at: d.deliveredAt ? new Date(d.deliveredAt).toISOString() : null,
      created: new Date(d.createdAt).toISOString(),
      attempts: (d.attemptLog ?? []).map(AttemptView.of),
    };
  }
}

export class DeliveryPage {
  @ApiProperty() count: number;
  @ApiProperty({ nullable: true, type: String }) next: string | null;
  @ApiProperty({ nullable: true, type: String }) previous: string | null;
  @ApiProperty({ type: [DeliveryView] }) results: DeliveryView[];
}
