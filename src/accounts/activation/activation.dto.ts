import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsArray,
  IsBoolean,
  IsEmail,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';

export class NewActivationRecordDto {
  @ApiProperty({ description: 'Institutional id (CRSid); becomes the username.', example: 'ab123' })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,149}$/, {
    message: 'crsid may contain letters, digits, . _ - (1–150 characters)',
  })
  crsid: string;

  @ApiProperty() @IsString() @Length(1, 150) last_name: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 150) first_name?: string;
  @ApiPropertyOptional() @IsOptional() @IsEmail() email?: string;

  @ApiProperty({ format: 'date', example: '1996-12-19' })
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'date_of_birth must be a date (YYYY-MM-DD)' })
  @IsISO8601({ strict: true, strictSeparator: true })
  date_of_birth: string;
}

export class CreateActivationRecordsDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID() organization: string;

  @ApiProperty({ type: [NewActivationRecordDto], maxItems: 1000 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  // ValidateNested passes a row that is itself an array without looking inside it.
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => NewActivationRecordDto)
  records: NewActivationRecordDto[];
}

export class ActivateDto {
  @ApiProperty({ minLength: 12 }) @IsString() @Length(12, 1024) password: string;

  @ApiProperty({ enum: [true] })
  @IsBoolean()
  @Equals(true, { message: 'accept_terms must be true' })
  accept_terms: boolean;
}
