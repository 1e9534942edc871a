import { ErrorMessage, Loading } from '../components';
import { useActions, useApi, useLoad } from '../hooks';
import { can } from '../permissions';
import { Link } from '../router';
import { GroupsSection } from './groups-section';
import type { Project } from './organizations';

export function ProjectPage({ id }: { id: string }) {
  const api = useApi();
  const project = useLoad(() => api.get<Project>(`/projects/${id}`), [id]);
  const actions = useActions('Project', id);
  if (project.error) return <ErrorMessage error={project.error} />;
  if (!project.data) return <Loading />;
  const p = project.data;
  return (
    <div>
      <p class="breadcrumbs">
        <Link to={`/organizations/${p.organization}`}>Organization</Link> ›
      </p>
      <h1>{p.name}</h1>
      <dl class="facts">
        <dt>Key</dt>
        <dd>
          <code>{p.key}</code>
        </dd>
        <dt>Kind</dt>
        <dd>{p.kind === 'course' ? 'Course project' : 'Project'}</dd>
        <dt>Dates</dt>
        <dd>
          {p.start_date ?? '—'} to {p.end_date ?? '—'}
        </dd>
      </dl>
      {p.kind === 'course' ? (
        <p>
          <Link to={`/projects/${id}/course-accounts`} class="button">
            Course accounts
          </Link>
        </p>
      ) : null}
      <GroupsSection
        organizationId={p.organization}
        scopeType="project"
        scopeId={id}
        mayCreate={can(actions, 'update')}
      />
    </div>
  );
}
