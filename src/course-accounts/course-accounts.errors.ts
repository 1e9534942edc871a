import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../common/errors/app-error';

/** Error codes of the course-accounts module. */
export const CourseAccountError = defineErrors('CourseAccountError', {
  invalid_transition: HttpStatus.CONFLICT,
  duplicate_account: HttpStatus.CONFLICT,
  project_not_found: HttpStatus.NOT_FOUND,
  project_not_course: HttpStatus.BAD_REQUEST,
  project_without_end_date: HttpStatus.BAD_REQUEST,
  project_ended: HttpStatus.BAD_REQUEST,
  project_deleted: HttpStatus.BAD_REQUEST,
  invalid_expiry: HttpStatus.BAD_REQUEST,
  invalid_rows: HttpStatus.BAD_REQUEST,
  backend_error: HttpStatus.BAD_GATEWAY,
  not_on_backend: HttpStatus.CONFLICT,
});

export type CourseAccountErrorCode = ConstructorParameters<typeof CourseAccountError>[0];
