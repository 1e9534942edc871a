import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import {
  assertDecodableForm,
  OAUTH_ENDPOINT_PATHS,
  tokenEndpointBodyErrors,
} from './accounts/oauth/token-endpoint-errors';
import { AppModule, AppModuleOptions } from './app.module';
import { bodyParserErrors } from './common/http/body-parser-errors.middleware';
import { answerClientErrors, limitRequestTime } from './common/http/client-errors';
import { checkParsedBody } from './common/http/parsed-body.middleware';
import { PUBLIC_URL_APP_SETTING } from './common/pagination/pagination';
import { publicUrl } from './config/load-settings';
import { Settings } from './config/settings.schema';

export const API_PREFIX = 'api/v1';

/** The version in package.json, found from src/ and from dist/ alike. */
function packageVersion(): string {
  for (const candidate of [join(__dirname, '..', 'package.json'), join(__dirname, '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'campus-access' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
}

/** Routes that keep their well-known paths outside /api/v1. */
const UNPREFIXED = [
  'health/live',
  'health/ready',
  'metrics',
  'oauth/token',
  'token',
  'oauth/revoke',
  'oauth/introspect',
  '.well-known/jwks.json',
  '.well-known/oauth-authorization-server',
  '.well-known/oauth-authorization-server/*path',
  // The LTI tool's browser endpoints and keyset, at the URLs LMS administrators register.
  'lti/login',
  'lti/launch',
  'lti/jwks.json',
  'lti/app',
  'lti/deep-linking',
  'lti/register',
  'lti/1.1/launch',
  // The web console (console module): its pages and files.
  'console',
  'console/*path',
  // The staff queue dashboard (JobQueuesModule, with REDIS_URL), its assets and API.
  'admin/queues',
  'admin/queues/*path',
  // The Open edX Registrar-compatible API (registrar module) keeps upstream's paths under its own base.
  'registrar/*path',
];

/** Mounts routes under /api/v1 except the well-known ones; scripts/write-openapi.ts applies the same rule. */
export function setApiPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, { exclude: UNPREFIXED.map((path) => ({ path, method: RequestMethod.ALL })) });
}

export function buildOpenApiDocument(app: NestExpressApplication, settings: Settings): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Campus Access')
    .setDescription(
      'Identity and access for universities: organizations, course projects, groups and roles, ' +
        'service tokens, course accounts, program enrollments and LTI.\n\n' +
        'Errors have the shape `{ "error": "snake_code", "message": "…", "details": {…} }`; ' +
        'lists are paginated with `?page=&page_size=` (max 500) and answer `{ count, next, previous, results }`.',
    )
    .setVersion(packageVersion())
    .addServer(publicUrl(settings))
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
}

/** Builds the HTTP application exactly as production runs it; tests use the same function. */
export async function createApp(options: AppModuleOptions): Promise<NestExpressApplication> {
  const { settings } = options;
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bufferLogs: true,
    bodyParser: false,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  answerClientErrors(app.getHttpServer());
  limitRequestTime(app.getHttpServer(), {
    headersMs: settings.HTTP_HEADERS_TIMEOUT_MS,
    requestMs: settings.HTTP_REQUEST_TIMEOUT_MS,
  });
  app.disable('x-powered-by');
  if (settings.TRUST_PROXY > 0) app.set('trust proxy', settings.TRUST_PROXY);
  app.set(PUBLIC_URL_APP_SETTING, publicUrl(settings));
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { 'img-src': ["'self'", 'data:'], 'script-src': ["'self'", "'unsafe-inline'"] },
      },
    }),
  );
  const limit = settings.BODY_LIMIT_BYTES;
  app.use(express.json({ limit, type: ['application/json', 'application/*+json'] }));
  // The OAuth endpoints refuse a form that does not percent-decode; the general parser then skips their bodies.
  app.use(OAUTH_ENDPOINT_PATHS, express.urlencoded({ extended: false, limit, verify: assertDecodableForm }));
  app.use(express.urlencoded({ extended: false, limit }));
  app.use(checkParsedBody);
  // The token endpoint answers even unreadable bodies in RFC 6749's error shape.
  app.use(OAUTH_ENDPOINT_PATHS, tokenEndpointBodyErrors);
  app.use(bodyParserErrors);
  if (settings.CORS_ORIGINS.length > 0) {
    const any = settings.CORS_ORIGINS.includes('*');
    app.enableCors({ origin: any ? '*' : settings.CORS_ORIGINS, credentials: !any, exposedHeaders: ['X-Request-Id'] });
  }
  setApiPrefix(app);
  if (settings.DOCS_ENABLED) {
    const document = buildOpenApiDocument(app, settings);
    SwaggerModule.setup('docs', app, document, {
      jsonDocumentUrl: 'openapi.json',
      customSiteTitle: 'Campus Access API',
    });
  }
  return app;
}
