import { Injectable } from '@nestjs/common';

/** A learner's grade in a course, as the Registrar API reports it. */
export interface LearnerGrade {
  letterGrade: string | null;
  /** 0–1. */
  percent: number | null;
  passed: boolean | null;
}

export interface GradedCourse {
  /** The program's organization: a grade source reads only this organization's grades. */
  organizationId: string;
  programId: string;
  programCourseId: string;
  /** The course run key. */
  courseId: string;
}

export interface GradedLearner {
  studentKey: string;
  userId: string | null;
}

/**
 * Where grades come from. The LTI module (which comes after this one) provides one from its AGS
 * results and registers it with `RegistrarGrades.use()`; until one is registered no learner has a grade.
 */
export interface GradeSource {
  /** Grades of these learners in the course, by student key; a learner left out has none. */
  gradesFor(course: GradedCourse, learners: GradedLearner[]): Promise<Map<string, LearnerGrade>>;
}

/** The grade source of the application, if a module registered one. */
@Injectable()
export class RegistrarGrades {
  private source: GradeSource | null = null;

  use(source: GradeSource): void {
    this.source = source;
  }

  async gradesFor(course: GradedCourse, learners: GradedLearner[]): Promise<Map<string, LearnerGrade>> {
    if (!this.source || learners.length === 0) return new Map();
    return this.source.gradesFor(course, learners);
  }
}

/** The error of a learner without a grade. */
export const NO_GRADE = 'no grade recorded for this learner';
