import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CommonError } from '../../../common/errors/common.errors';
import { InjectSettings } from '../../../config/settings.module';
import { Settings } from '../../../config/settings.schema';
import { LtiToolKeysService } from '../../keys/lti-tool-keys.service';
import { toolUrls } from '../../lti-urls';
import { LtiError } from '../../lti.errors';
import { LtiPlatformsRepository } from '../../platforms/lti-platforms.repository';
import { COURSE_ACCOUNT_PARAMETER } from '../../provisioning/lti-provisioner';
import { LtiLaunchesRepository } from '../../sessions/lti-launches.repository';
import { queryRows } from '../../../database/query';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim';
const DL = 'https://purl.imsglobal.org/spec/lti-dl/claim';

/** What the picker offers: a link into the course project, or one that also provisions the learner's course account. */
export interface PickerItem {
  id: string;
  type: 'ltiResourceLink';
  title: string;
  text: string;
  custom: Record<string, string>;
}

export interface PickerSettings {
  items: PickerItem[];
  accept_types: string[];
  accept_multiple: boolean;
  accept_lineitem: boolean;
  return_url: string;
  title: string | null;
}

export interface DeepLinkAnswer {
  return_url: string;
  jwt: string;
}

export interface PickedLineItem {
  score_maximum: number;
  label?: string;
}

const isTrue = (v: unknown) => v === true || v === 'true';

/**
 * Deep linking (LTI Deep Linking 2.0): a deep-linking launch's content picker, and its answer, an
 * LtiDeepLinkingResponse JWT signed with the tool key (aud the platform issuer, `data` echoed,
 * ltiResourceLink items with custom parameters and an optional line item), posted to the
 * platform's deep_link_return_url. accept_types, accept_multiple and accept_lineitem are honoured;
 * a launch answers once, within LTI_DEEP_LINKING_TTL_SECONDS.
 */
@Injectable()
export class DeepLinkingService {
  constructor(
    private readonly launches: LtiLaunchesRepository,
    private readonly platforms: LtiPlatformsRepository,
    private readonly keys: LtiToolKeysService,
    @InjectDataSource() private readonly db: DataSource,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** The picker of a deep-linking launch; `userId`, when given, must be the launch's user (else 404). */
  async picker(
    launchId: string,
    userId?: string,
  ): Promise<
    PickerSettings & {
      launch: { platformId: string; deploymentId: string; projectId: string | null; claims: Record<string, unknown> };
    }
  > {
    const launch = await this.launches.findById(launchId);
    if (!launch || (userId !== undefined && launch.userId !== userId))
      throw new CommonError('not_found', 'No such launch.', { launch_id: launchId });
    const platformId = launch.platformId;
    // Deep linking is an LTI 1.3 message: a launch of an LTI 1.1 consumer has no platform.
    if (launch.messageType !== 'LtiDeepLinkingRequest' || platformId === null)
      throw new LtiError('not_deep_linking', 'This launch is not a deep-linking launch.');
    if (launch.createdAt.getTime() + this.settings.LTI_DEEP_LINKING_TTL_SECONDS * 1000 < Date.now())
      throw new LtiError('deep_linking_expired', 'This content picker is too old: open it from the LMS again.');
    const s = (launch.claims.deep_linking_settings ?? {}) as Record<string, unknown>;
    const context = (launch.claims.context ?? {}) as Record<string, unknown>;
    const name = typeof context.title === 'string' ? context.title : 'this course';
    const items: PickerItem[] = launch.projectId
      ? [
          {
            id: `project:${launch.projectId}`,
            type: 'ltiResourceLink',
            title: `Campus Access: ${name}`,
            text: 'Opens the course project in Campus Access.',
            custom: { campus_access_project: launch.projectId },
          },
          {
            id: `course-account:${launch.projectId}`,
            type: 'ltiResourceLink',
            title: `Lab account: ${name}`,
            text: 'Opens the course project and gives each learner their course account on launch.',
            custom: { campus_access_project: launch.projectId, [COURSE_ACCOUNT_PARAMETER]: 'true' },
          },
        ]
      : [];
    return {
      items,
      accept_types: Array.isArray(s.accept_types) ? (s.accept_types as string[]) : [],
      accept_multiple: s.accept_multiple === undefined ? true : isTrue(s.accept_multiple),
      accept_lineitem: isTrue(s.accept_lineitem),
      return_url: s.deep_link_return_url as string,
      title: typeof s.title === 'string' ? s.title : null,
      launch: { ...launch, platformId },
    };
  }

  /** The signed answer for the chosen items (once per launch). */
  async answer(
    launchId: string,
    chosen: readonly string[],
    lineItem: PickedLineItem | null,
    userId?: string,
  ): Promise<DeepLinkAnswer> {
    const picker = await this.picker(launchId, userId);
    if (!picker.accept_types.includes('ltiResourceLink') && chosen.length > 0)
      throw new LtiError('content_not_accepted', 'The LMS does not accept links (ltiResourceLink) here.');
    if (!picker.accept_multiple && chosen.length > 1)
      throw new LtiError('content_not_accepted', 'The LMS accepts one item here: choose one.');
    if (lineItem && !picker.accept_lineitem)
      throw new LtiError('content_not_accepted', 'The LMS does not accept a gradebook column (line item) here.');
    const byId = new Map(picker.items.map((i) => [i.id, i]));
    const unknown = chosen.filter((id) => !byId.has(id));
    if (unknown.length) throw new LtiError('content_not_accepted', 'Unknown items.', { items: unknown });
    const platform = await this.platforms.findAnyById(picker.launch.platformId);
    if (!platform || platform.deletedAt) throw new CommonError('not_found', 'No such launch.');
    const target = toolUrls(this.settings).target;
    const items = chosen.map((id) => {
      const i = byId.get(id)!;
      return {
        type: 'ltiResourceLink',
        title: i.title,
        text: i.text,
        url: target,
        custom: i.custom,
        ...(lineItem
          ? { lineItem: { scoreMaximum: lineItem.score_maximum, label: lineItem.label ?? i.title, resourceId: i.id } }
          : {}),
      };
    });
    const settings = (picker.launch.claims.deep_linking_settings ?? {}) as Record<string, unknown>;
    const inserted = await queryRows<{ id: string }>(
      this.db,
      `INSERT INTO lti_deep_link_responses (launch_id, items) VALUES ($1, $2::jsonb)
       ON CONFLICT (launch_id) DO NOTHING RETURNING id`,
      [launchId, JSON.stringify(items)],
    );
    if (inserted.length === 0)
      throw new LtiError('deep_linking_answered', 'This content picker already answered the LMS.');
    const jwt = await this.keys.ring.sign(
      {
        iss: platform.clientId,
        aud: platform.issuer,
        azp: platform.clientId,
        nonce: randomUUID(),
        [`${LTI}/message_type`]: 'LtiDeepLinkingResponse',
        [`${LTI}/version`]: '1.3.0',
        [`${LTI}/deployment_id`]: picker.launch.deploymentId,
        [`${DL}/content_items`]: items,
        ...(settings.data !== undefined ? { [`${DL}/data`]: settings.data } : {}),
        ...(items.length === 0 ? { [`${DL}/msg`]: 'Nothing was chosen.' } : {}),
      },
      300,
    );
    return { return_url: picker.return_url, jwt };
  }
}
