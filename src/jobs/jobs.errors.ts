import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../common/errors/app-error';

export const JobsError = defineErrors('JobsError', {
  not_found: HttpStatus.NOT_FOUND,
  artifact_not_found: HttpStatus.NOT_FOUND,
  invalid_state: HttpStatus.CONFLICT,
  forbidden: HttpStatus.FORBIDDEN,
  unknown_job: HttpStatus.INTERNAL_SERVER_ERROR,
});
