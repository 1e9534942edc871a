/**
 * An LMS platform on this machine that launches a running Campus Access as an LTI 1.3 tool, to see a
 * launch sign a learner in without a real LMS.
 *
 *   npm run lti:simulator -- [--url http://localhost:3000] [--username admin --password … | --token …]
 *                            [--organization <uuid>] [--port 3101] [--serve]
 *
 * It starts the simulator (JWKS, OIDC auth endpoint, course page) on http://127.0.0.1:<port> with a fixed
 * issuer, client id and deployment id, so a registration made once keeps working on later runs. With
 * admin credentials (or CA_ADMIN_PASSWORD / CA_ADMIN_TOKEN) it registers the platform itself, in the
 * organization given or one it creates; without them it prints the registration to paste into
 * `POST /api/v1/lti/platforms` (e.g. in /docs) and waits until the tool accepts its logins. Then it makes
 * one launch as a learner over HTTP, as a browser would, and prints the signed-in user, the course
 * project and the role. With --serve it keeps running and prints a course page to open in a browser,
 * which launches the tool in an iframe.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { CryptoKey, exportJWK, exportSPKI, importJWK, JWK } from 'jose';
import {
  LmsBrowserPlatform,
  LmsLaunch,
  newPlatformKey,
  PlatformKey,
  startLmsBrowserPlatform,
} from '../test/utils/lti-platform';
import { launchOverHttp } from '../test/utils/lti-http-launch';
import {
  createOrganization,
  passwordLogin,
  RegisteredPlatform,
  registerPlatform,
  toolUrlsOf,
} from '../test/utils/lti-registration';

const CLIENT_ID = 'campus-access-simulator';
const DEPLOYMENT_ID = 'simulator-deployment-1';
const WAIT_FOR_REGISTRATION_S = 600;

const LEARNER: LmsLaunch = {
  sub: 'simulator-learner-ada',
  givenName: 'Ada',
  familyName: 'Lovelace',
  name: 'Ada Lovelace',
  email: 'ada.lovelace@example.edu',
  roles: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
  context: { id: 'simulator-course-101', title: 'Analytical Engines 101', label: 'AE101' },
  resourceLink: { id: 'simulator-link-lab', title: 'Lab account' },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: process.env.CA_URL ?? 'http://localhost:3000' },
      username: { type: 'string', default: 'admin' },
      password: { type: 'string', default: process.env.CA_ADMIN_PASSWORD },
      token: { type: 'string', default: process.env.CA_ADMIN_TOKEN },
      organization: { type: 'string' },
      port: { type: 'string', default: '3101' },
      serve: { type: 'boolean', default: false },
      'key-file': {
        type: 'string',
        default: process.env.LTI_SIMULATOR_KEY_FILE ?? join('.data', 'lti-simulator-key.json'),
      },
    },
  });
  const base = values.url.replace(/\/+$/, '');
  const platform = await startLmsBrowserPlatform({
    host: '127.0.0.1',
    port: Number(values.port),
    clientId: CLIENT_ID,
    deploymentId: DEPLOYMENT_ID,
    key: await simulatorKey(values['key-file']),
  });
  console.log(`LMS simulator at ${platform.origin} (issuer ${platform.issuer})`);
  try {
    const token =
      values.token ?? (values.password ? await passwordLogin(base, values.username, values.password) : null);
    let loginUrl = `${base}/lti/login`;
    if (token) {
      const registered = await register(base, token, platform, values.organization);
      platform.registerTool(toolUrlsOf(registered.tool));
      loginUrl = registered.tool.login_initiation_url;
      console.log(`Registered as platform ${registered.id}; the tool's values for the LMS:`);
      console.log(JSON.stringify(registered.tool, null, 2));
    } else {
      platform.registerTool({
        loginUrl,
        launchUrl: `${base}/lti/launch`,
        targetLinkUri: `${base}/lti/app`,
      });
      console.log('\nRegister this platform (POST /api/v1/lti/platforms, e.g. in /docs, as an organization admin):');
      console.log(JSON.stringify(registration(platform, '<organization uuid>'), null, 2));
      console.log(`\nWaiting up to ${WAIT_FOR_REGISTRATION_S} s for ${base} to accept the simulator's logins…`);
    }

    const answer = await launchWhenRegistered(platform, loginUrl, token ? 0 : WAIT_FOR_REGISTRATION_S);
    console.log('\nLaunch complete. Signed in:');
    console.log(`  user     ${answer.user.username} (${answer.user.id})`);
    console.log(`  project  ${answer.project ? `${String(answer.project.name ?? '')} (${answer.project.id})` : '–'}`);
    console.log(`  role     ${answer.role ?? '–'}`);
    console.log(
      `  token    ${answer.token_type} …${answer.access_token.slice(-12)}, expires in ${answer.expires_in} s`,
    );
    const me = await fetch(`${base}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${answer.access_token}` } });
    console.log(`  GET /api/v1/auth/me with it: ${me.status} ${(await me.text()).slice(0, 300)}`);

    if (values.serve) {
      console.log(`\nOpen ${platform.coursePage(LEARNER)} in a browser to launch the tool in an iframe.`);
      console.log('(Each course page URL launches once; Ctrl-C stops the simulator.)');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    await platform.close();
  }
}

/**
 * The simulator's signing key, kept in `file` across runs like its issuer and client id: a tool that
 * cached the simulator's JWKS keeps verifying it, instead of refusing a new key's `kid` until its
 * refetch interval (LTI_JWKS_REFETCH_INTERVAL_SECONDS) has passed since the last run.
 */
async function simulatorKey(file: string): Promise<PlatformKey> {
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { kid: string; privateJwk: JWK; publicJwk: JWK };
    const privateKey = (await importJWK(saved.privateJwk, 'RS256', { extractable: true })) as CryptoKey;
    const publicKey = (await importJWK(saved.publicJwk, 'RS256', { extractable: true })) as CryptoKey;
    return {
      kid: saved.kid,
      alg: 'RS256',
      privateKey,
      publicJwk: saved.publicJwk,
      publicKeyPem: await exportSPKI(publicKey),
    };
  } catch {
    const key = await newPlatformKey('RS256');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(
      file,
      JSON.stringify({ kid: key.kid, privateJwk: await exportJWK(key.privateKey), publicJwk: key.publicJwk }),
      { mode: 0o600 },
    );
    return key;
  }
}

function registration(platform: LmsBrowserPlatform, organization: string) {
  return {
    organization,
    name: 'LMS simulator',
    issuer: platform.issuer,
    client_id: platform.clientId,
    auth_login_url: platform.authLoginUrl,
    auth_token_url: platform.authTokenUrl,
    jwks_url: platform.jwksUrl,
    deployment_ids: [platform.deploymentId],
  };
}

/** Registers the platform, or finds its registration when it already exists (409). */
async function register(
  base: string,
  token: string,
  platform: LmsBrowserPlatform,
  organization: string | undefined,
): Promise<RegisteredPlatform> {
  const headers = { Authorization: `Bearer ${token}` };
  const existing = await fetch(`${base}/api/v1/lti/platforms?issuer=${encodeURIComponent(platform.issuer)}`, {
    headers,
  });
  if (existing.ok) {
    const page = (await existing.json()) as { results: (RegisteredPlatform & { client_id: string })[] };
    const found = page.results.find((p) => p.client_id === platform.clientId);
    if (found) return found;
  }
  const org =
    organization ??
    (await createOrganization(base, token, `lti-simulator-${Date.now().toString(36)}`, 'LTI simulator')).id;
  return registerPlatform(base, token, platform, org);
}

async function launchWhenRegistered(platform: LmsBrowserPlatform, loginUrl: string, waitSeconds: number) {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    try {
      return await launchOverHttp(platform, loginUrl, LEARNER);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
