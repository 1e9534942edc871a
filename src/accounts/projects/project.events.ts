/** Emitted after a project is soft-deleted and the deletion committed; other modules react (close course accounts…). */
export const PROJECT_DELETED = 'project.deleted';

export interface ProjectDeletedEvent {
  projectId: string;
  organizationId: string;
  actor: { type: string; id: string };
}
