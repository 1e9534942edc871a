import { buildMessage, isISO8601, ValidateBy, ValidationOptions } from 'class-validator';

/**
 * A date, or RFC 3339's date-time (a space allowed for the `T`, seconds and offset optional), with an offset
 * of at most ±15:59 as PostgreSQL requires. ISO 8601 alone also lets through week and ordinal dates, bare
 * years, `T10` without minutes and six-digit years, which PostgreSQL or `Date` cannot read.
 */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-](?:0\d|1[0-5]):?[0-5]\d)?)?$/;

/** Whether both PostgreSQL and `Date` read the value as the same valid instant (calendar checked: no 2030-02-30). */
export function isTimestamp(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    TIMESTAMP.test(value) &&
    isISO8601(value, { strict: true }) &&
    !Number.isNaN(Date.parse(value))
  );
}

/** A date-time field: `2030-06-30T12:00:00Z`, `2030-06-30T12:00+02:00` or a bare date `2030-06-30`. */
export function IsTimestamp(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTimestamp',
      validator: {
        validate: isTimestamp,
        defaultMessage: buildMessage(
          (each) => `${each}$property must be a date-time such as 2030-06-30T12:00:00Z`,
          options,
        ),
      },
    },
    options,
  );
}
