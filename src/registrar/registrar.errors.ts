import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../common/errors/app-error';

/** Error codes of the registrar module (not_found, forbidden, validation_failed… are CommonError's). */
export const RegistrarError = defineErrors('RegistrarError', {
  duplicate_key: HttpStatus.CONFLICT,
  program_has_enrollments: HttpStatus.CONFLICT,
  course_has_enrollments: HttpStatus.CONFLICT,
  upload_in_progress: HttpStatus.CONFLICT,
  invalid_upload: HttpStatus.BAD_REQUEST,
  invalid_enrollments: HttpStatus.BAD_REQUEST,
  too_many_enrollments: HttpStatus.PAYLOAD_TOO_LARGE,
  upload_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  invalid_signature: HttpStatus.FORBIDDEN,
  invalid_import: HttpStatus.BAD_REQUEST,
  import_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
});

export type RegistrarErrorCode = ConstructorParameters<typeof RegistrarError>[0];
