import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { PageQuery } from '../../common/pagination/pagination';
import type { AppAbility } from '../../permissions/ability';
import { allowedActions } from '../../permissions/access';
import { ProgramCourse } from '../program-course.entity';
import { Program } from '../program.entity';
import { REGISTRAR_API_PERMISSIONS, RegistrarApiPermission } from '../programs.service';

/** `GET /programs` of the Registrar API. */
export class RegistrarProgramsQuery {
  @ApiPropertyOptional({ description: "An organization's key: only its programs (unknown key: 404)." })
  @IsOptional()
  @IsString()
  org?: string;

  @ApiPropertyOptional({ enum: REGISTRAR_API_PERMISSIONS, default: 'read_metadata' })
  @IsOptional()
  @IsString()
  user_has_perm?: string;

  @ApiPropertyOptional({ description: 'Part of the title (case-insensitive).' })
  @IsOptional()
  @IsString()
  program_title?: string;
}

/** `GET /registrar/api/v3/programs`: the same filters, paginated (page size 100 by default). */
export class RegistrarProgramsPageQuery extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() org?: string;
  @ApiPropertyOptional({ enum: REGISTRAR_API_PERMISSIONS }) @IsOptional() @IsString() user_has_perm?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() program_title?: string;
}

export class RegistrarProgramView {
  @ApiProperty({ example: 'masters-in-english' }) program_key: string;
  @ApiProperty() program_title: string;
  @ApiProperty({ nullable: true, type: String }) program_url: string | null;
  @ApiProperty({ example: 'Masters' }) program_type: string;
  @ApiProperty({ enum: REGISTRAR_API_PERMISSIONS, isArray: true }) permissions: RegistrarApiPermission[];

  static of(p: Program, ability: AppAbility): RegistrarProgramView {
    const allowed = new Set<string>(allowedActions(ability, 'Program', p));
    return {
      program_key: p.key,
      program_title: p.title,
      program_url: p.url,
      program_type: p.type,
      permissions: REGISTRAR_API_PERMISSIONS.filter((perm) => allowed.has(perm)),
    };
  }
}

export class RegistrarCourseView {
  @ApiProperty({ example: 'course-v1:HUMx+English-550+Spring' }) course_id: string;
  @ApiProperty({ nullable: true, type: String, example: 'ENG55-S19' }) external_course_key: string | null;
  @ApiProperty() course_title: string;
  @ApiProperty({ nullable: true, type: String }) course_url: string | null;

  static of(c: ProgramCourse): RegistrarCourseView {
    return {
      course_id: c.courseId,
      external_course_key: c.externalCourseKey,
      course_title: c.title,
      course_url: c.url,
    };
  }
}

/** 202 of every Registrar read that runs as a job. */
export class RegistrarJobStarted {
  @ApiProperty({ format: 'uuid' }) job_id: string;
  @ApiProperty({ description: 'Absolute URL of `/registrar/api/v1/jobs/{job_id}`.' }) job_url: string;
}

export class RegistrarJobView {
  @ApiProperty({ format: 'uuid' }) job_id: string;
  @ApiProperty() name: string;
  @ApiProperty() created: string;
  @ApiProperty({ enum: ['Pending', 'In Progress', 'Succeeded', 'Failed', 'Canceled', 'Retrying'] }) state: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Signed, expiring URL of the result file; it needs no credentials.',
  })
  result: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: "The job's overall code (uploads, grades) or, on failure, the error.",
  })
  text: string | null;
}

export class RegistrarReportView {
  @ApiProperty() name: string;
  @ApiProperty({ format: 'date' }) created_date: string;
  @ApiProperty({ description: 'Signed, expiring URL; it needs no credentials.' }) download_url: string;
}
