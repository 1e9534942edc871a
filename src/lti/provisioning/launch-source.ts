import type { CourseAccountPolicy, LtiPlatform } from '../platforms/lti-platform.entity';
import type { RoleMappingTarget } from './lti-roles';

/**
 * Who a launch comes from, as provisioning reads it: an LTI 1.3 platform or an LTI 1.1 consumer.
 * Users, contexts, resource links and launch records are keyed by it; the rest of provisioning is the
 * same for both versions.
 */
export interface LaunchSource {
  kind: 'platform' | 'consumer';
  id: string;
  organizationId: string;
  name: string;
  roleMappings: Record<string, RoleMappingTarget>;
  verifiesEmail: boolean;
  courseAccountsOnLaunch: CourseAccountPolicy;
}

/** The key of a launch record's source: one of the two is set. */
export interface SourceRef {
  platformId: string | null;
  consumerId: string | null;
}

export function platformSource(p: LtiPlatform): LaunchSource {
  return {
    kind: 'platform',
    id: p.id,
    organizationId: p.organizationId,
    name: p.name || p.issuer,
    roleMappings: p.roleMappings,
    verifiesEmail: p.verifiesEmail,
    courseAccountsOnLaunch: p.courseAccountsOnLaunch,
  };
}

export function sourceRef(source: Pick<LaunchSource, 'kind' | 'id'>): SourceRef {
  return source.kind === 'platform'
    ? { platformId: source.id, consumerId: null }
    : { platformId: null, consumerId: source.id };
}

/** The column of a source's key in the tables provisioning writes (a fixed name, never input). */
export const sourceColumn = (source: Pick<LaunchSource, 'kind'>) =>
  source.kind === 'platform' ? 'platform_id' : 'consumer_id';

/** How audit events and tokens name a launch's source: `lti_platform` or `lti_consumer`. */
export const sourceTag = (source: Pick<LaunchSource, 'kind' | 'id'>) =>
  source.kind === 'platform' ? { lti_platform: source.id } : { lti_consumer: source.id };
