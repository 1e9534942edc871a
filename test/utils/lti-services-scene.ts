import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createUser, unique } from '../factories/accounts';
import type { Scene } from './authorization-scene';

/** What the LTI Advantage routes of the authorization matrix act on, in the scene's organization and project. */
export interface LtiServicesObjects {
  platformId: string;
  /** A resource link of the scene's project whose AGS claim names one line item (listing it calls nobody). */
  linkId: string;
  contextRef: string;
  /** A user the platform launched (the subject of scores). */
  userId: string;
  scoreId: string;
  /** A platform that registered itself and waits for approval. */
  pendingPlatformId: string;
}

const made = new WeakMap<Scene, Promise<LtiServicesObjects>>();

/**
 * Made once per scene, straight in the database: a platform whose services are a closed loopback
 * port (calls fail at once), a context of the scene's project with an NRPS launch, a resource link
 * with an AGS claim, a launched user and a score.
 */
export function ltiServicesObjects(scene: Scene): Promise<LtiServicesObjects> {
  let objects = made.get(scene);
  if (!objects) {
    objects = make(scene);
    made.set(scene, objects);
  }
  return objects;
}

async function make(scene: Scene): Promise<LtiServicesObjects> {
  const t = scene.testApp();
  const db = t.app.get(DataSource);
  const org = await scene.org();
  const project = await scene.project();
  const closed = 'http://127.0.0.1:9';
  const platform = async (approved: boolean) => {
    const [row] = await db.query(
      `INSERT INTO lti_platforms (organization_id, name, issuer, client_id, auth_login_url, auth_token_url, jwks_url,
                                  deployment_ids, approved)
       VALUES ($1, 'Matrix LMS', $2, $3, $4, $5, $6, ARRAY['d-1'], $7) RETURNING id`,
      [
        org.id,
        `https://${unique('lms')}.example.edu`,
        unique('client'),
        `${closed}/auth`,
        `${closed}/token`,
        `${closed}/jwks`,
        approved,
      ],
    );
    return row.id as string;
  };
  const platformId = await platform(true);
  const pendingPlatformId = await platform(false);
  const user = await createUser(t, { organizationId: org.id });
  await db.query('INSERT INTO lti_identities (platform_id, subject, user_id) VALUES ($1, $2, $3)', [
    platformId,
    'sub-1',
    user.row.id,
  ]);
  const groupIds = { project_manager: randomUUID(), project_contributor: randomUUID(), project_member: randomUUID() };
  const [context] = await db.query(
    `INSERT INTO lti_contexts (platform_id, context_id, project_id, group_ids) VALUES ($1, 'ctx-1', $2, $3::jsonb) RETURNING id`,
    [platformId, project.id, JSON.stringify(groupIds)],
  );
  const [link] = await db.query(
    `INSERT INTO lti_resource_links (platform_id, resource_link_id, context_ref, title, ags_endpoint)
     VALUES ($1, 'rl-1', $2, 'Lab', $3::jsonb) RETURNING id`,
    [
      platformId,
      context.id,
      JSON.stringify({
        lineitem: `${closed}/lineitems/1`,
        scope: ['https://purl.imsglobal.org/spec/lti-ags/scope/score'],
      }),
    ],
  );
  await db.query(
    `INSERT INTO lti_launches (platform_id, deployment_id, user_id, context_ref, resource_link_ref, project_id, message_type,
                               roles, target_link_uri, claims)
     VALUES ($1, 'd-1', $2, $3, $4, $5, 'LtiResourceLinkRequest', '{}', 'https://tool.example/lti/app', $6::jsonb)`,
    [
      platformId,
      user.row.id,
      context.id,
      link.id,
      project.id,
      JSON.stringify({ nrps: { context_memberships_url: `${closed}/memberships` } }),
    ],
  );
  const [score] = await db.query(
    `INSERT INTO lti_scores (platform_id, resource_link_ref, organization_id, project_id, user_id, body, state)
     VALUES ($1, $2, $3, $4, $5, '{}'::jsonb, 'failed') RETURNING id`,
    [platformId, link.id, org.id, project.id, user.row.id],
  );
  return {
    platformId,
    linkId: link.id,
    contextRef: context.id,
    userId: user.row.id,
    scoreId: score.id,
    pendingPlatformId,
  };
}
