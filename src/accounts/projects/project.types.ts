/** What other modules know of projects: they read them through ProjectsService, never the entity. */
export type ProjectKind = 'default' | 'course';

/**
 * A project as other modules read it: its own columns, no relations. Deleted projects are included
 * (`deletedAt` set), so callers can tell "deleted" from "not found".
 */
export interface ProjectSummary {
  id: string;
  organizationId: string;
  key: string;
  name: string;
  kind: ProjectKind;
  /** YYYY-MM-DD */
  startDate: string | null;
  /** YYYY-MM-DD */
  endDate: string | null;
  deletedAt: Date | null;
}
