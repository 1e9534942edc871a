/** Claim names of LTI 1.3 Core, Advantage and OIDC that launches read. */
const LTI = 'https://purl.imsglobal.org/spec/lti/claim';
export const CLAIM = {
  messageType: `${LTI}/message_type`,
  version: `${LTI}/version`,
  deploymentId: `${LTI}/deployment_id`,
  targetLinkUri: `${LTI}/target_link_uri`,
  resourceLink: `${LTI}/resource_link`,
  roles: `${LTI}/roles`,
  context: `${LTI}/context`,
  custom: `${LTI}/custom`,
  launchPresentation: `${LTI}/launch_presentation`,
  lis: `${LTI}/lis`,
  toolPlatform: `${LTI}/tool_platform`,
  roleScopeMentor: `${LTI}/role_scope_mentor`,
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
  deepLinkingSettings: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
} as const;

/** The message types this tool launches: resource links, and deep linking (the content picker). */
export const HANDLED_MESSAGE_TYPES = ['LtiResourceLinkRequest', 'LtiDeepLinkingRequest'] as const;
export type HandledMessageType = (typeof HANDLED_MESSAGE_TYPES)[number];

/** A validated launch, as provisioning and the launch record use it. */
export interface LaunchClaims {
  sub: string;
  exp: number;
  /** LTI 1.1 launches are `basic-lti-launch-request`. */
  messageType: HandledMessageType | 'basic-lti-launch-request';
  /** Empty for an LTI 1.1 launch. */
  deploymentId: string;
  targetLinkUri: string;
  roles: string[];
  context: { id: string; title?: string; label?: string; type?: unknown } | null;
  resourceLink: { id: string; title?: string; description?: string } | null;
  email?: string;
  givenName?: string;
  familyName?: string;
  name?: string;
  /** Claims kept on the launch record: custom, launch_presentation, lis, AGS, NRPS, tool_platform… */
  record: Record<string, unknown>;
}

/** The claims a launch record keeps, by their short names. */
export const RECORDED_CLAIMS: Record<string, string> = {
  context: CLAIM.context,
  resource_link: CLAIM.resourceLink,
  custom: CLAIM.custom,
  launch_presentation: CLAIM.launchPresentation,
  lis: CLAIM.lis,
  tool_platform: CLAIM.toolPlatform,
  role_scope_mentor: CLAIM.roleScopeMentor,
  ags_endpoint: CLAIM.ags,
  nrps: CLAIM.nrps,
  deep_linking_settings: CLAIM.deepLinkingSettings,
};
