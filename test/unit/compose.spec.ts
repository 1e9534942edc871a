import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SETTINGS_SCHEMA } from '../../src/config/settings.schema';

const root = join(__dirname, '..', '..');
const read = (name: string) => readFileSync(join(root, name), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string> | string[];
  healthcheck?: { test?: unknown };
  depends_on?: Record<string, { condition?: string }> | string[];
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
const services = compose.services;

function environmentNames(service: Service): string[] {
  const env = service.environment ?? {};
  return Array.isArray(env) ? env.map((entry) => entry.split('=')[0]) : Object.keys(env);
}

describe('docker-compose.yml', () => {
  it('runs the api with postgres and redis', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['api', 'postgres', 'redis']));
    expect(services.api.build).toBeDefined();
  });

  it.each(Object.keys(services))('gives %s a health check', (name) => {
    expect(services[name].healthcheck?.test).toBeDefined();
  });

  it('starts the api only when postgres and redis are healthy', () => {
    expect(services.api.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
  });

  it('runs a worker from the same image on the same database, Redis, key secret and data volume', () => {
    const worker = services.worker;
    expect(worker.build).toEqual(services.api.build);
    const [apiEnv, workerEnv] = [services.api.environment, worker.environment] as Record<string, string>[];
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'KEY_ENCRYPTION_SECRET'])
      expect({ name, value: workerEnv[name] }).toEqual({ name, value: apiEnv[name] });
    expect((worker as { volumes?: string[] }).volumes).toEqual((services.api as { volumes?: string[] }).volumes);
    expect(apiEnv.JOB_WORKERS_ENABLED).toBe('false');
  });

  it.each(['api', 'worker'])('configures the %s only with settings that exist and are in .env.example', (service) => {
    const names = environmentNames(services[service]);
    if (service === 'api')
      expect(names).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'HOST', 'PORT', 'PUBLIC_URL']));
    const example = read('.env.example');
    for (const name of names) {
      expect({ name, isSetting: Object.prototype.hasOwnProperty.call(SETTINGS_SCHEMA, name) }).toEqual({
        name,
        isSetting: true,
      });
      expect({ name, inEnvExample: new RegExp(`^#?\\s*${name}=`, 'm').test(example) }).toEqual({
        name,
        inEnvExample: true,
      });
    }
  });

  it('points the api at the compose postgres and redis', () => {
    const env = services.api.environment as Record<string, string>;
    expect(new URL(env.DATABASE_URL).hostname).toBe('postgres');
    expect(new URL(env.REDIS_URL).hostname).toBe('redis');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const runtime = instructions.slice(instructions.map((l) => l.startsWith('FROM ')).lastIndexOf(true));

  it('runs the final stage as a non-root user', () => {
    const users = runtime.filter((l) => /^USER\s/.test(l)).map((l) => l.split(/\s+/)[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users[users.length - 1].split(':')[0]);
  });

  it('installs only production dependencies in the final stage', () => {
    expect(runtime.some((l) => /^RUN\s.*npm ci --omit=dev/.test(l))).toBe(true);
  });

  it('starts the compiled server and checks its health', () => {
    expect(runtime).toContain('CMD ["node", "dist/main.js"]');
    expect(runtime.some((l) => l.startsWith('HEALTHCHECK') && l.includes('/health/live'))).toBe(true);
  });
});
