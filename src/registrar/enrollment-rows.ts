import { RegistrarError } from './registrar.errors';

/** Per-row outcomes the Registrar API reports in place of a status. */
export const ROW_ERRORS = [
  'duplicated',
  'invalid-status',
  'conflict',
  'not-in-program',
  'not-found',
  'illegal-operation',
  'internal-error',
  'course-not-found',
] as const;
export type RowError = (typeof ROW_ERRORS)[number];

/** One row of an enrollment write, as sent. `status` is checked later, per row. */
export interface EnrollmentRow {
  studentKey: string;
  status: string;
  /** Course rows only: null when not given. */
  courseStaff: boolean | null;
}

const STUDENT_KEY_MAX = 255;

/**
 * The rows of a JSON enrollment write: an array of `{ student_key, status }` objects (course writes
 * may add `course_staff`), at most `maxRows` of them. A body of any other shape is 400 with
 * upstream's words; too many rows is 413. Unknown fields of a row are ignored, as upstream does.
 */
export function parseEnrollmentRows(body: unknown, maxRows: number, course: boolean): EnrollmentRow[] {
  if (!Array.isArray(body)) throw new RegistrarError('invalid_enrollments', 'expected request body type: List');
  if (body.length > maxRows) {
    throw new RegistrarError('too_many_enrollments', `At most ${maxRows} enrollments may be written at once.`, {
      limit: maxRows,
      rows: body.length,
    });
  }
  if (body.length === 0) throw new RegistrarError('invalid_enrollments', 'expected at least one enrollment');
  return body.map((item: unknown, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new RegistrarError('invalid_enrollments', 'expected items in request to be of type Dict', { index });
    }
    const row = item as Record<string, unknown>;
    const key = row.student_key;
    if (typeof key !== 'string' || key.length === 0 || key.length > STUDENT_KEY_MAX || key.includes('\u0000')) {
      throw new RegistrarError('invalid_enrollments', 'expected request dicts to have string value for "student_key"', {
        index,
        max_length: STUDENT_KEY_MAX,
      });
    }
    if (typeof row.status !== 'string') {
      throw new RegistrarError('invalid_enrollments', 'expected request dicts to have string value for "status"', {
        index,
      });
    }
    let courseStaff: boolean | null = null;
    if (course && row.course_staff !== undefined && row.course_staff !== null) {
      if (typeof row.course_staff !== 'boolean') {
        throw new RegistrarError('invalid_enrollments', 'expected "course_staff" to be a boolean', { index });
      }
      courseStaff = row.course_staff;
    }
    return { studentKey: key, status: row.status, courseStaff };
  });
}

/** The HTTP status of a write whose rows ended as `results`: 200 all written, 207 some, 422 none. */
export function writeStatus(results: Map<string, string>, isStatus: (s: string) => boolean): 200 | 207 | 422 {
  const values = [...results.values()];
  const ok = values.filter(isStatus).length;
  if (ok === values.length) return 200;
  return ok > 0 ? 207 : 422;
}

/** Rows whose student key appears more than once: all of them are `duplicated` and none is written. */
export function duplicatedKeys(rows: { studentKey: string }[]): Set<string> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const { studentKey } of rows) (seen.has(studentKey) ? twice : seen).add(studentKey);
  return twice;
}
