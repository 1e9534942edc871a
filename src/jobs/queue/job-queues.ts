import type { DynamicModule, Type } from '@nestjs/common';

const JOB_QUEUES_METADATA = 'campus-access:job-queues';

/** Injection token: the names of every queue the application declared (`@DeclaresJobQueues`). */
export const JOB_QUEUE_NAMES = Symbol('JOB_QUEUE_NAMES');

/**
 * Declares the queues that a module's job processors run on. With REDIS_URL, each declared queue is a
 * Bull queue registered with @nestjs/bull (and shown on the queue dashboard); a processor on an
 * undeclared queue stops the application at start-up.
 *
 *   @DeclaresJobQueues(COURSE_ACCOUNTS_QUEUE)
 *   @Module({ … })
 *   export class CourseAccountsModule {}
 */
export function DeclaresJobQueues(...names: string[]): ClassDecorator {
  return (target) => Reflect.defineMetadata(JOB_QUEUES_METADATA, names, target);
}

/** The queues the given modules declare, each once, in the order first declared. */
export function declaredJobQueues(modules: (Type | DynamicModule)[]): string[] {
  const names = new Set<string>();
  for (const m of modules) {
    const type = 'module' in m ? m.module : m;
    for (const name of (Reflect.getMetadata(JOB_QUEUES_METADATA, type) as string[] | undefined) ?? []) names.add(name);
  }
  return [...names];
}
