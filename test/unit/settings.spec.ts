import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadSettings, LoadSettingsOptions, SettingsError } from '../../src/config/load-settings';
import { closedPort, LocalHttpServer, startLocalHttpServer } from '../utils/local-http';

/** The SDK reads credentials from process.env; these are set for S3 cases and put back afterwards. */
const AWS_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_EC2_METADATA_DISABLED',
];

describe('loadSettings', () => {
  let dir: string;
  let servers: LocalHttpServer[];
  let savedAwsEnv: Record<string, string | undefined>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ca-settings-'));
    servers = [];
    savedAwsEnv = Object.fromEntries(AWS_ENV.map((k) => [k, process.env[k]]));
  });

  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    for (const [k, v] of Object.entries(savedAwsEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  });

  const file = async (name: string, content: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };

  /** Loads with only the given environment and .env file (never the machine's own). */
  const load = (env: Record<string, string>, options: Omit<LoadSettingsOptions, 'env'> = {}) =>
    loadSettings({ env, envFile: join(dir, 'absent.env'), ...options });

  const serve = async (handler: Parameters<typeof startLocalHttpServer>[0]): Promise<LocalHttpServer> => {
    const server = await startLocalHttpServer(handler);
    servers.push(server);
    return server;
  };

  const serveText = (body: string) =>
    serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/yaml' });
      res.end(body);
    });

  /** The SettingsError `loading` fails with. */
  const failure = async (loading: Promise<unknown>): Promise<string> => {
    const error = await loading.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SettingsError);
    return (error as SettingsError).message;
  };

  const useS3Credentials = () => {
    for (const k of AWS_ENV) delete process.env[k];
    process.env.AWS_ACCESS_KEY_ID = 'AKIDSETTINGSTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'settings-test-secret-key';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  };

  describe('precedence', () => {
    it('uses the defaults when nothing is set', async () => {
      const s = await load({});
      expect(s.PORT).toBe(3000);
      expect(s.LOG_LEVEL).toBe('info');
      expect(s.METRICS_ENABLED).toBe(true);
      expect(s.CORS_ORIGINS).toEqual([]);
      expect(s.DATABASE_URL).toBeUndefined();
    });

    it('layers defaults, .env, documents in order, environment and EXTERNAL_SETTING_, each over the one before', async () => {
      const envFile = await file(
        'layers.env',
        ['HOST=10.0.0.1', 'LOG_LEVEL=debug', 'DATA_DIR=/from/dotenv', 'PORT=1001', 'BODY_LIMIT_BYTES=2001'].join('\n'),
      );
      const first = await file(
        'first.yaml',
        'LOG_LEVEL: warn\nDATA_DIR: /from/first\nPORT: 1002\nBODY_LIMIT_BYTES: 2002\n',
      );
      const second = await file('second.yaml', 'DATA_DIR: /from/second\nPORT: 1003\nBODY_LIMIT_BYTES: 2003\n');
      const s = await load(
        {
          EXTRA_SETTINGS_URLS: `${first},${second}`,
          PORT: '1004',
          BODY_LIMIT_BYTES: '2004',
          EXTERNAL_SETTING_BODY_LIMIT_BYTES: '2005',
        },
        { envFile },
      );
      expect(s.NODE_ENV).toBe('development'); // default only
      expect(s.HOST).toBe('10.0.0.1'); // .env over default
      expect(s.LOG_LEVEL).toBe('warn'); // document over .env
      expect(s.DATA_DIR).toBe('/from/second'); // later document over earlier
      expect(s.PORT).toBe(1004); // environment over documents
      expect(s.BODY_LIMIT_BYTES).toBe(2005); // EXTERNAL_SETTING_ over environment
    });

    it('refuses a heartbeat timeout that one missed heartbeat would exceed', async () => {
      expect(await failure(load({ JOB_HEARTBEAT_INTERVAL_MS: '5000', JOB_HEARTBEAT_TIMEOUT_MS: '10000' }))).toMatch(
        /JOB_HEARTBEAT_TIMEOUT_MS \(10000\) must exceed twice JOB_HEARTBEAT_INTERVAL_MS \(5000\)/,
      );
      const s = await load({ JOB_HEARTBEAT_INTERVAL_MS: '5000', JOB_HEARTBEAT_TIMEOUT_MS: '10001' });
      expect(s.JOB_HEARTBEAT_TIMEOUT_MS).toBe(10001);
    });

    it('refuses request timeouts whose headers part exceeds the whole', async () => {
      expect(await failure(load({ HTTP_HEADERS_TIMEOUT_MS: '40000', HTTP_REQUEST_TIMEOUT_MS: '30000' }))).toMatch(
        /HTTP_HEADERS_TIMEOUT_MS \(40000\) must not exceed HTTP_REQUEST_TIMEOUT_MS \(30000\)/,
      );
    });

    it('takes a Redis key prefix of letters, digits, dots, dashes and underscores only', async () => {
      expect((await load({})).REDIS_KEY_PREFIX).toBe('ca');
      expect((await load({ REDIS_KEY_PREFIX: 'campus-prod.eu_1' })).REDIS_KEY_PREFIX).toBe('campus-prod.eu_1');
      for (const bad of ['{ca}', 'ca:x', 'c a', 'x'.repeat(65)]) {
        expect(await failure(load({ REDIS_KEY_PREFIX: bad }))).toMatch(/Invalid setting REDIS_KEY_PREFIX/);
      }
    });

    it('puts overrides above EXTERNAL_SETTING_', async () => {
      const s = await load({ EXTERNAL_SETTING_PORT: '1005' }, { overrides: { PORT: '1006' } });
      expect(s.PORT).toBe(1006);
    });

    it('reads EXTERNAL_SETTING_<NAME> as YAML', async () => {
      const s = await load({
        EXTERNAL_SETTING_CORS_ORIGINS: '[https://a.example.edu, https://b.example.edu]',
        EXTERNAL_SETTING_HOST: "'0.0.0.0'",
        EXTERNAL_SETTING_METRICS_ENABLED: 'false',
        EXTERNAL_SETTING_SHUTDOWN_TIMEOUT_MS: '2500',
      });
      expect(s.CORS_ORIGINS).toEqual(['https://a.example.edu', 'https://b.example.edu']);
      expect(s.HOST).toBe('0.0.0.0');
      expect(s.METRICS_ENABLED).toBe(false);
      expect(s.SHUTDOWN_TIMEOUT_MS).toBe(2500);
    });

    it('takes EXTRA_SETTINGS_URLS itself from the .env file', async () => {
      const doc = await file('from-dotenv.yaml', 'LOG_LEVEL: error\n');
      const envFile = await file('list.env', `EXTRA_SETTINGS_URLS=${doc}\n`);
      expect((await load({}, { envFile })).LOG_LEVEL).toBe('error');
    });
  });

  describe('settings documents', () => {
    it('reads a bare absolute path, a bare relative path and a file:// URL', async () => {
      const absolute = await file('absolute.yaml', 'LOG_LEVEL: warn\n');
      const rel = relative(process.cwd(), await file('relative.yaml', 'DATA_DIR: /from/relative\n'));
      const url = pathToFileURL(await file('as url.yaml', 'PORT: 4321\n')).href;
      expect(rel.startsWith('/')).toBe(false);
      const s = await load({ EXTRA_SETTINGS_URLS: [absolute, rel, url].join(',') });
      expect(s.LOG_LEVEL).toBe('warn');
      expect(s.DATA_DIR).toBe('/from/relative');
      expect(s.PORT).toBe(4321);
    });

    it('reads a plain http:// document from a loopback address', async () => {
      const server = await serveText(
        'LOG_LEVEL: debug\nCORS_ORIGINS:\n  - https://lms.example.edu\n  - https://vle.example.edu\n',
      );
      const s = await load({ EXTRA_SETTINGS_URLS: `${server.origin}/campus/settings.yaml` });
      expect(s.LOG_LEVEL).toBe('debug');
      expect(s.CORS_ORIGINS).toEqual(['https://lms.example.edu', 'https://vle.example.edu']);
      expect(server.requests).toEqual([expect.objectContaining({ method: 'GET', url: '/campus/settings.yaml' })]);
    });

    it('applies documents of different kinds in the order listed', async () => {
      const server = await serveText('LOG_LEVEL: debug\nDATA_DIR: /from/http\n');
      const local = await file('after.yaml', 'DATA_DIR: /from/file\n');
      const s = await load({ EXTRA_SETTINGS_URLS: `${server.origin}/a.yaml,${local}` });
      expect(s.LOG_LEVEL).toBe('debug');
      expect(s.DATA_DIR).toBe('/from/file');
    });

    it.each([
      'http://settings.example.org/campus.yaml',
      'http://10.1.2.3/campus.yaml',
      'http://127.example.org/campus.yaml',
    ])('refuses plain http:// from a non-loopback host (%s)', async (url) => {
      const message = await failure(load({ EXTRA_SETTINGS_URLS: url }));
      expect(message).toContain(url);
      expect(message).toMatch(/loopback/);
    });

    it('reads an s3:// document from an S3-compatible endpoint', async () => {
      useS3Credentials();
      const server = await serveText('LOG_LEVEL: trace\nPORT: 8443\n');
      const s = await load({
        EXTRA_SETTINGS_URLS: 's3://settings-bucket/campus/extra.yaml',
        S3_ENDPOINT: server.origin,
        S3_FORCE_PATH_STYLE: 'true',
      });
      expect(s.LOG_LEVEL).toBe('trace');
      expect(s.PORT).toBe(8443);
      expect(server.requests).toHaveLength(1);
      const [request] = server.requests;
      expect(request.method).toBe('GET');
      expect(request.url.split('?')[0]).toBe('/settings-bucket/campus/extra.yaml');
      expect(String(request.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDSETTINGSTEST\//);
    });

    it('reaches S3 through an endpoint set by an earlier document', async () => {
      useS3Credentials();
      const server = await serveText('DATA_DIR: /from/s3\n');
      const first = await file('s3-endpoint.yaml', `S3_ENDPOINT: ${server.origin}\nS3_FORCE_PATH_STYLE: true\n`);
      const s = await load({ EXTRA_SETTINGS_URLS: `${first},s3://team-settings/campus.yaml` });
      expect(s.DATA_DIR).toBe('/from/s3');
      expect(s.S3_ENDPOINT).toBe(server.origin);
      expect(server.requests.map((r) => r.url.split('?')[0])).toEqual(['/team-settings/campus.yaml']);
    });

    it('names the s3:// URL when the object cannot be read', async () => {
      useS3Credentials();
      const server = await serve((_req, res) => {
        res.writeHead(404, { 'Content-Type': 'application/xml' });
        res.end('<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>missing</Message></Error>');
      });
      const url = 's3://settings-bucket/missing.yaml';
      const message = await failure(
        load({
          EXTRA_SETTINGS_URLS: url,
          S3_ENDPOINT: server.origin,
          S3_FORCE_PATH_STYLE: 'true',
          EXTRA_SETTINGS_TIMEOUT_MS: '3000',
        }),
      );
      expect(message).toContain(url);
      expect(message).toMatch(/cannot be read/);
    });

    it('fails naming the URL when an https:// document has no TLS server behind it', async () => {
      const closed = `https://127.0.0.1:${await closedPort()}/settings.yaml`;
      const closedMessage = await failure(load({ EXTRA_SETTINGS_URLS: closed, EXTRA_SETTINGS_TIMEOUT_MS: '3000' }));
      expect(closedMessage).toContain(closed);
      expect(closedMessage).toMatch(/cannot be read \(ECONNREFUSED\)/);

      const plain = await serveText('LOG_LEVEL: debug\n');
      const notTls = `https://127.0.0.1:${plain.port}/settings.yaml`;
      const notTlsMessage = await failure(load({ EXTRA_SETTINGS_URLS: notTls, EXTRA_SETTINGS_TIMEOUT_MS: '3000' }));
      expect(notTlsMessage).toContain(notTls);
      expect(notTlsMessage).toMatch(/cannot be read \(.*SSL.*\)/);
    });

    it('gives up on a server that never answers after EXTRA_SETTINGS_TIMEOUT_MS', async () => {
      const silent = await serve(() => undefined);
      const url = `${silent.origin}/slow.yaml`;
      const started = Date.now();
      const message = await failure(load({ EXTRA_SETTINGS_URLS: url, EXTRA_SETTINGS_TIMEOUT_MS: '300' }));
      const elapsed = Date.now() - started;
      expect(message).toContain(url);
      expect(message).toMatch(/timed out/);
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(3_000);
      expect(silent.requests).toHaveLength(1);
    });

    it('gives up on an S3 endpoint that never answers after EXTRA_SETTINGS_TIMEOUT_MS', async () => {
      useS3Credentials();
      const silent = await serve(() => undefined);
      const url = 's3://settings-bucket/slow.yaml';
      const started = Date.now();
      const message = await failure(
        load({
          EXTRA_SETTINGS_URLS: url,
          S3_ENDPOINT: silent.origin,
          S3_FORCE_PATH_STYLE: 'true',
          EXTRA_SETTINGS_TIMEOUT_MS: '300',
        }),
      );
      expect(message).toContain(url);
      expect(message).toMatch(/timed out/);
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('sends credentials in the URL as Basic authentication', async () => {
      const server = await serveText('LOG_LEVEL: warn\n');
      const s = await load({ EXTRA_SETTINGS_URLS: `http://reader:p%40ss@127.0.0.1:${server.port}/private.yaml` });
      expect(s.LOG_LEVEL).toBe('warn');
      expect(server.requests[0].headers.authorization).toBe(`Basic ${Buffer.from('reader:p@ss').toString('base64')}`);
    });

    it('names the URL, without its credentials or query, when a server answers an error', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(403);
        res.end('no');
      });
      const url = `http://reader:pw-7781@127.0.0.1:${server.port}/private.yaml?token=tok-9912`;
      const message = await failure(load({ EXTRA_SETTINGS_URLS: url }));
      expect(message).toContain(`127.0.0.1:${server.port}/private.yaml`);
      expect(message).toMatch(/HTTP 403/);
      expect(message).not.toContain('pw-7781');
      expect(message).not.toContain('tok-9912');
    });

    it.each(['ftp://files.example.edu/campus.yaml', 'consul://kv/campus', 'DATABASE_URL=azkv://campus/db-url'])(
      'refuses the unsupported scheme of %s, naming the URL',
      async (url) => {
        const message = await failure(load({ EXTRA_SETTINGS_URLS: url }));
        expect(message).toContain(url);
        expect(message).toMatch(/unsupported scheme/);
      },
    );

    it('refuses a SETTING=SOURCE entry naming an unknown setting', async () => {
      const message = await failure(load({ EXTRA_SETTINGS_URLS: 'NOT_A_SETTING=sm://campus/settings' }));
      expect(message).toBe('EXTRA_SETTINGS_URLS entry sm://campus/settings: unknown setting NOT_A_SETTING');
    });

    it('sets one setting to the whole content of a SETTING=SOURCE entry, in the order listed', async () => {
      const secret = await file('admin-password.txt', 'p@ss: [word] #not-a-comment\n');
      const later = await file('later.yaml', 'BOOTSTRAP_ADMIN_PASSWORD: from-later-document\n');
      expect((await load({ EXTRA_SETTINGS_URLS: `BOOTSTRAP_ADMIN_PASSWORD=${secret}` })).BOOTSTRAP_ADMIN_PASSWORD).toBe(
        'p@ss: [word] #not-a-comment',
      );
      const both = await load({ EXTRA_SETTINGS_URLS: `BOOTSTRAP_ADMIN_PASSWORD=${secret},${later}` });
      expect(both.BOOTSTRAP_ADMIN_PASSWORD).toBe('from-later-document');
    });

    it('refuses a missing file, naming it', async () => {
      const missing = join(dir, 'missing.yaml');
      const message = await failure(load({ EXTRA_SETTINGS_URLS: missing }));
      expect(message).toContain(missing);
      expect(message).toMatch(/ENOENT/);
    });

    it('refuses a document that is not a mapping', async () => {
      const list = await file('list.yaml', '- PORT\n- 3000\n');
      const message = await failure(load({ EXTRA_SETTINGS_URLS: list }));
      expect(message).toContain(list);
      expect(message).toMatch(/expected a mapping/);
    });
  });

  describe('refusals', () => {
    it('refuses an unknown setting in a document, naming it and the document', async () => {
      const doc = await file('unknown.yaml', 'LOG_LEVEL: info\nNOT_A_SETTING: 1\n');
      const message = await failure(load({ EXTRA_SETTINGS_URLS: doc }));
      expect(message).toContain('NOT_A_SETTING');
      expect(message).toContain(doc);
    });

    it('refuses an unknown EXTERNAL_SETTING_ name', async () => {
      const message = await failure(load({ EXTERNAL_SETTING_NOT_A_SETTING: 'x' }));
      expect(message).toContain('NOT_A_SETTING');
      expect(message).toContain('EXTERNAL_SETTING_NOT_A_SETTING');
    });

    const invalid: [
      string,
      string,
      (dir: string) => Promise<{ env: Record<string, string>; envFile?: string; source: string }>,
    ][] = [
      ['PORT', 'not a number', async () => ({ env: { PORT: 'abc' }, source: 'environment' })],
      [
        'PORT',
        'out of range',
        async (d) => {
          const doc = join(d, 'port.yaml');
          await writeFile(doc, 'PORT: 70000\n');
          return { env: { EXTRA_SETTINGS_URLS: doc }, source: doc };
        },
      ],
      [
        'LOG_LEVEL',
        'not a level',
        async (d) => {
          const envFile = join(d, 'level.env');
          await writeFile(envFile, 'LOG_LEVEL=loud\n');
          return { env: {}, envFile, source: `.env file ${envFile}` };
        },
      ],
      [
        'METRICS_ENABLED',
        'not a boolean',
        async () => ({
          env: { EXTERNAL_SETTING_METRICS_ENABLED: 'maybe' },
          source: 'EXTERNAL_SETTING_METRICS_ENABLED',
        }),
      ],
      ['DOCS_ENABLED', 'not a boolean', async () => ({ env: { DOCS_ENABLED: 'maybe' }, source: 'environment' })],
    ];
    it.each(invalid)('refuses an invalid %s (%s), naming the setting and its source', async (name, _why, setup) => {
      const { env, envFile, source } = await setup(dir);
      const message = await failure(load(env, envFile ? { envFile } : {}));
      expect(message).toMatch(new RegExp(`\\b${name}\\b`));
      expect(message).toContain(source);
    });

    it('shows the rejected value of an ordinary setting', async () => {
      expect(await failure(load({ LOG_LEVEL: 'loud' }))).toContain('"loud"');
    });
  });

  describe('secrets', () => {
    const SECRET = 'hunter2-very-secret';

    it.each(['DATABASE_URL', 'REDIS_URL'])('never prints an invalid %s from any source', async (name) => {
      const doc = await file('secret.yaml', `${name}: ${SECRET} not a url\n`);
      const envFile = await file('secret.env', `${name}=${SECRET} not a url\n`);
      const sources: { env: Record<string, string>; envFile?: string }[] = [
        { env: { [name]: `${SECRET} not a url` } },
        { env: { [`EXTERNAL_SETTING_${name}`]: `${SECRET} not a url` } },
        { env: { [`EXTERNAL_SETTING_${name}`]: `"postgres://u:${SECRET}@db.example.edu/x` } },
        { env: { EXTRA_SETTINGS_URLS: doc } },
        { env: {}, envFile },
      ];
      for (const { env, envFile: fromFile } of sources) {
        const message = await failure(load(env, fromFile ? { envFile: fromFile } : {}));
        expect(message).toContain(name);
        expect(message).not.toContain(SECRET);
      }
    });

    it('never prints a secret from a document that is not valid YAML', async () => {
      const doc = await file(
        'broken.yaml',
        `DATABASE_URL: postgres://u:${SECRET}@db.example.edu/x\nLOG_LEVEL: [unclosed\n`,
      );
      const message = await failure(load({ EXTRA_SETTINGS_URLS: doc }));
      expect(message).toMatch(/not valid YAML/);
      expect(message).not.toContain(SECRET);
    });

    it('accepts a valid secret URL and keeps it only in the settings', async () => {
      const url = `postgres://campus:${SECRET}@db.example.edu:5432/campus`;
      const s = await load({ DATABASE_URL: url, REDIS_URL: `redis://:${SECRET}@cache.example.edu:6379` });
      expect(s.DATABASE_URL).toBe(url);
      expect(s.REDIS_URL).toContain(SECRET);
    });
  });
});
