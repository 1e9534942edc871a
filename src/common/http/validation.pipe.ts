import { ValidationError, ValidationPipe } from '@nestjs/common';
import { CommonError } from '../errors/common.errors';

interface FieldProblem {
  field: string;
  problems: string[];
}

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, problems: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Whitelisting, unknown fields refused, values transformed; failures are 400 `validation_failed` naming each field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      const unknown = fields.filter((f) => f.problems.some((p) => p.endsWith('should not exist'))).map((f) => f.field);
      return new CommonError('validation_failed', `Invalid request: ${fields.map((f) => f.field).join(', ')}`, {
        fields,
        ...(unknown.length ? { unknown_fields: unknown } : {}),
      });
    },
  });
}
