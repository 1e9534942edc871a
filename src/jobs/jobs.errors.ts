import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../common/errors/app-error';

export const JobsError = defineErrors('JobsError', {
  artifact_not_found: HttpStatus.NOT_FOUND,
  invalid_state: HttpStatus.CONFLICT,
  unknown_job: HttpStatus.INTERNAL_SERVER_ERROR,
});
