import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length, Matches } from 'class-validator';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_ONLY = { strict: true, strictSeparator: true };

export class PlaceReportDto {
  @ApiProperty({
    example: 'individual_report__2019-12-18.csv',
    description: 'Unique in the program; a report of the same name is replaced.',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, { message: 'name must be 1–255 letters, digits or ._-' })
  name: string;

  @ApiPropertyOptional({ format: 'date', description: 'Default: today (UTC).' })
  @IsOptional()
  @Matches(DATE, { message: 'created_date must be a date (YYYY-MM-DD)' })
  @IsISO8601(DATE_ONLY)
  created_date?: string;

  @ApiPropertyOptional({ default: 'text/csv; charset=utf-8' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  content_type?: string;

  @ApiProperty({ description: 'The file, as text or base64 (see `encoding`).' })
  @IsString()
  content: string;

  @ApiPropertyOptional({ enum: ['utf8', 'base64'], default: 'utf8' })
  @IsOptional()
  @IsIn(['utf8', 'base64'])
  encoding?: 'utf8' | 'base64';
}

export class ReportView {
  @ApiProperty() id: string;
  @ApiProperty() program: string;
  @ApiProperty() name: string;
  @ApiProperty({ format: 'date' }) created_date: string;
  @ApiProperty() content_type: string;
  @ApiProperty() size: number;
}

export class ReportsQuery {
  @ApiPropertyOptional({ format: 'date', description: 'Only reports created on or after this date.' })
  @IsOptional()
  @Matches(DATE, { message: 'min_created_date must be a date (YYYY-MM-DD)' })
  @IsISO8601(DATE_ONLY)
  min_created_date?: string;
}
