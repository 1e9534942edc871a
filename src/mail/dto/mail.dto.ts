import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { MAIL_KINDS, MailKind } from '../mail-template.entity';
import type { ParticipantEmail } from '../participant-email.entity';

export class MailTemplateDto {
  @ApiProperty({ example: 'Your account for {{course}}' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  subject: string;

  @ApiProperty({ description: 'Plain-text body (mustache; variables are inserted as they are).' })
  @IsString()
  @MinLength(1)
  @MaxLength(20000)
  text: string;

  @ApiProperty({ description: 'HTML body (mustache; every `{{variable}}` is HTML-escaped, `{{{raw}}}` is refused).' })
  @IsString()
  @MinLength(1)
  @MaxLength(50000)
  html: string;
}

export class MailTemplateView extends MailTemplateDto {
  @ApiProperty({ enum: MAIL_KINDS }) kind: MailKind;
  @ApiProperty({ description: 'False: the default is used.' }) custom: boolean;
}

export class ParticipantEmailView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: MAIL_KINDS }) kind: MailKind;
  @ApiProperty() recipient: string;
  @ApiProperty({ enum: ['pending', 'sent', 'failed'] }) state: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: String }) subject: string | null;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) sent_at: string | null;
  @ApiProperty({ format: 'date-time' }) created: string;

  static of(e: ParticipantEmail): ParticipantEmailView {
    return {
      id: e.id,
      kind: e.kind,
      recipient: e.recipient,
      state: e.state,
      attempts: e.attempts,
      subject: e.subject,
      error: e.error,
      sent_at: e.sentAt ? new Date(e.sentAt).toISOString() : null,
      created: new Date(e.createdAt).toISOString(),
    };
  }
}
