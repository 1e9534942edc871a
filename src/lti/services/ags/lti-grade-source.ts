import { Injectable, OnModuleInit } from '@nestjs/common';
import { GradedCourse, GradedLearner, GradeSource, LearnerGrade, RegistrarGrades } from '../../../registrar/grades';
import { LtiAgsRepository } from './lti-ags.repository';

/**
 * The Registrar's grade source: results read back from LMS gradebooks (AGS). A learner's percent
 * is the sum of their result scores over the sum of the maxima across the line items of the
 * organization's LMS courses whose context id (or label) is the Registrar course key; the LMS has no
 * letter grade or pass mark, so those stay null.
 */
@Injectable()
export class LtiGradeSource implements GradeSource, OnModuleInit {
  constructor(
    private readonly registrar: RegistrarGrades,
    private readonly repo: LtiAgsRepository,
  ) {}

  onModuleInit(): void {
    this.registrar.use(this);
  }

  async gradesFor(course: GradedCourse, learners: GradedLearner[]): Promise<Map<string, LearnerGrade>> {
    const byUser = new Map(learners.flatMap((l) => (l.userId ? [[l.userId, l.studentKey] as const] : [])));
    const out = new Map<string, LearnerGrade>();
    if (byUser.size === 0) return out;
    for (const row of await this.repo.gradesOf(course.organizationId, course.courseId, [...byUser.keys()])) {
      const key = byUser.get(row.user_id);
      if (key) out.set(key, { letterGrade: null, percent: Math.min(1, row.score / row.maximum), passed: null });
    }
    return out;
  }
}
