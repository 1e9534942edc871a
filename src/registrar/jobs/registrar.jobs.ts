import { defineJob, JobPermission } from '../../jobs/processors/job-definition';

/** The Registrar API's reads and uploads get their own queue, so long exports never hold up other jobs. */
export const REGISTRAR_QUEUE = 'registrar';

export const RESULT_FORMATS = ['json', 'csv'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

export interface ProgramJobPayload {
  programId: string;
  organizationId: string;
  format: ResultFormat;
}

export interface CourseJobPayload extends ProgramJobPayload {
  /** One course, or null for every course of the program. */
  programCourseId: string | null;
}

const readsEnrollments = ({ programId, organizationId }: ProgramJobPayload): JobPermission => ({
  action: 'read_enrollments',
  subject: 'Program',
  object: { id: programId, organizationId },
  description: "read this program's enrollments",
});

/** `[{ student_key, status, account_exists }]` of a program. */
export const PROGRAM_ENROLLMENTS_READ = defineJob<ProgramJobPayload>('registrar.program-enrollments.read', {
  queue: REGISTRAR_QUEUE,
  requires: readsEnrollments,
});

/** `[{ course_id, student_key, status, account_exists }]` of one course or of every course of a program. */
export const COURSE_ENROLLMENTS_READ = defineJob<CourseJobPayload>('registrar.course-enrollments.read', {
  queue: REGISTRAR_QUEUE,
  requires: readsEnrollments,
});

/** `[{ student_key, letter_grade, percent, passed, error }]` of a course's learners. */
export const COURSE_GRADES_READ = defineJob<CourseJobPayload>('registrar.course-grades.read', {
  queue: REGISTRAR_QUEUE,
  requires: readsEnrollments,
});

/** The artifact holding a job's result file, by format: the signed `result` URL of the job points at it. */
export const resultArtifact = (format: ResultFormat) => `result.${format}`;

export const CONTENT_TYPES: Record<ResultFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

export interface UploadJobPayload {
  uploadId: string;
  programId: string;
  organizationId: string;
  kind: 'program' | 'course';
}

/**
 * Applies a staged CSV upload (create or update every row); its result lists each row's outcome and
 * its text is the overall code: 200 every row written, 207 some, 422 none, 204 no rows.
 */
export const ENROLLMENTS_UPLOAD = defineJob<UploadJobPayload>('registrar.enrollments.upload', {
  queue: REGISTRAR_QUEUE,
  requires: ({ programId, organizationId }) => ({
    action: 'write_enrollments',
    subject: 'Program',
    object: { id: programId, organizationId },
    description: "change this program's enrollments",
  }),
});
