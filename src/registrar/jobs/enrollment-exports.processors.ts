import { ProcessesJob, JobContext, JobProcessor } from '../../jobs/processors/job-processor';
import { RESULT_ARTIFACT } from '../../jobs/dto/job.dto';
import { EnrollmentsRepository } from '../enrollments.repository';
import { NO_GRADE, RegistrarGrades } from '../grades';
import { ProgramsRepository } from '../programs.repository';
import {
  COURSE_ENROLLMENTS_READ,
  COURSE_GRADES_READ,
  CourseJobPayload,
  PROGRAM_ENROLLMENTS_READ,
  ProgramJobPayload,
} from './registrar.jobs';
import { writeResultFile } from './result-writer';

/** Rows read per statement (keyset pages). */
const PAGE = 5000;

@ProcessesJob(PROGRAM_ENROLLMENTS_READ)
export class ProgramEnrollmentsReadProcessor implements JobProcessor<ProgramJobPayload> {
  constructor(private readonly enrollments: EnrollmentsRepository) {}

  async process(ctx: JobContext<ProgramJobPayload>): Promise<void> {
    const { programId, format } = ctx.payload;
    const enrollments = this.enrollments;
    const total = await enrollments.countProgramEnrollments(programId);
    await writeResultFile(
      ctx,
      format,
      ['student_key', 'status', 'account_exists'],
      (async function* () {
        let after: string | null = null;
        if (format === 'json') {
          // Serialized by PostgreSQL, the same objects in the same order; the next page is read while
          // this one is written.
          let next = enrollments.programEnrollmentJsonPage(programId, null, PAGE);
          for (;;) {
            const page = await next;
            if (!page) return;
            next = enrollments.programEnrollmentJsonPage(programId, page.last, PAGE);
            // A failed read of the next page surfaces when it is awaited, not as an unhandled rejection.
            next.catch(() => undefined);
            yield page;
          }
        }
        for (;;) {
          const page = await enrollments.programEnrollmentPage(programId, after, PAGE);
          if (page.length === 0) return;
          yield page.map((r) => ({ student_key: r.student_key, status: r.status, account_exists: r.account_exists }));
          after = page[page.length - 1].student_key;
        }
      })(),
      total,
    );
  }
}

@ProcessesJob(COURSE_ENROLLMENTS_READ)
export class CourseEnrollmentsReadProcessor implements JobProcessor<CourseJobPayload> {
  constructor(private readonly enrollments: EnrollmentsRepository) {}

  async process(ctx: JobContext<CourseJobPayload>): Promise<void> {
    const { programId, programCourseId, format } = ctx.payload;
    const enrollments = this.enrollments;
    const total = await enrollments.countCourseEnrollments(programId, programCourseId);
    await writeResultFile(
      ctx,
      format,
      ['course_id', 'student_key', 'status', 'account_exists'],
      (async function* () {
        let after: { course: string; studentKey: string } | null = null;
        for (;;) {
          const page = await enrollments.courseEnrollmentPage(programId, programCourseId, after, PAGE);
          if (page.length === 0) return;
          yield page.map((r) => ({
            course_id: r.course_id,
            student_key: r.student_key,
            status: r.status,
            account_exists: r.account_exists,
          }));
          const last = page[page.length - 1];
          after = { course: last.sort_course, studentKey: last.student_key };
        }
      })(),
      total,
    );
  }
}

/**
 * Grades of a course's learners from the registered grade source; a learner without a grade gets a
 * row with `error`. The job's text is the overall code, as upstream: 200 every learner has a grade,
 * 207 some, 422 none, 204 the course has no learner.
 */
@ProcessesJob(COURSE_GRADES_READ)
export class CourseGradesReadProcessor implements JobProcessor<CourseJobPayload> {
  constructor(
    private readonly enrollments: EnrollmentsRepository,
    private readonly programs: ProgramsRepository,
    private readonly grades: RegistrarGrades,
  ) {}

  async process(ctx: JobContext<CourseJobPayload>): Promise<void> {
    const { programId, programCourseId, format, organizationId } = ctx.payload;
    const course = programCourseId ? await this.programs.findCourseById(programId, programCourseId) : null;
    const enrollments = this.enrollments;
    const grades = this.grades;
    let graded = 0;
    let missing = 0;
    const total = course ? await enrollments.countCourseEnrollments(programId, course.id) : 0;
    await writeResultFile(
      ctx,
      format,
      ['student_key', 'letter_grade', 'percent', 'passed', 'error'],
      (async function* () {
        if (!course) return;
        let after: string | null = null;
        for (;;) {
          const learners = await enrollments.courseLearnerPage(course.id, after, PAGE);
          if (learners.length === 0) return;
          const found = await grades.gradesFor(
            { organizationId, programId, programCourseId: course.id, courseId: course.courseId },
            learners,
          );
          yield learners.map((l) => {
            const grade = found.get(l.studentKey);
            if (grade) graded++;
            else missing++;
            return grade
              ? {
                  student_key: l.studentKey,
                  letter_grade: grade.letterGrade,
                  percent: grade.percent,
                  passed: grade.passed,
                  error: null,
                }
              : { student_key: l.studentKey, letter_grade: null, percent: null, passed: null, error: NO_GRADE };
          });
          after = learners[learners.length - 1].studentKey;
        }
      })(),
      total,
    );
    const code = graded + missing === 0 ? 204 : missing === 0 ? 200 : graded === 0 ? 422 : 207;
    await ctx.writeArtifact(RESULT_ARTIFACT, String(code));
  }
}
