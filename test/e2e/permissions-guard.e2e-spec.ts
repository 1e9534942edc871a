import { Controller, Get, Module, RequestMethod } from '@nestjs/common';
import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig, DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { routeDeclaration } from '../../src/permissions/authorization.guard';
import { createUser } from '../factories/accounts';
import { createTestApp, TestApp } from '../utils/test-app';

/** A route someone forgot to declare. */
@Controller('forgotten')
class ForgottenController {
  @Get()
  list() {
    return ['should never be served'];
  }
}

@Module({ controllers: [ForgottenController] })
class ForgottenModule {}

interface WalkedRoute {
  route: string;
  declared: boolean;
}

/** Every route of every controller of the application, with whether it declares @Public or @RequirePermission. */
function walkRoutes(t: TestApp): WalkedRoute[] {
  const discovery = new DiscoveryService(t.app.get(ModulesContainer));
  const scanner = new MetadataScanner();
  const reflector = new Reflector();
  const routes: WalkedRoute[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (new (...args: unknown[]) => object) | undefined;
    if (!controller) continue;
    // A controller may serve its routes under several bases (the Registrar API's v1 and v2).
    const bases = [(Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined) ?? '/'].flat();
    for (const name of scanner.getAllMethodNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, object>)[name];
      const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (paths === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
      const labels = [paths].flat().flatMap((p) => (bases.length > 1 ? bases.map((base) => `${base}/${p}`) : [p]));
      for (const path of labels) {
        routes.push({
          route: `${method} ${controller.name}.${name} (${path})`,
          declared: routeDeclaration(reflector, handler, controller) !== null,
        });
      }
    }
  }
  return routes;
}

/**
 * Routes Express serves for controllers: Nest adds one router layer per route and method. Layers
 * answering every method are Nest middleware bound to all routes, not endpoints.
 */
function expressRoutes(t: TestApp): string[] {
  const router = (
    t.app.getHttpAdapter().getInstance() as {
      router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
    }
  ).router;
  return router.stack
    .filter((l) => l.route && Object.keys(l.route.methods).length === 1)
    .map((l) => `${Object.keys(l.route!.methods)[0].toUpperCase()} ${l.route!.path}`);
}

describe('Authorization guard: deny by default', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { DOCS_ENABLED: 'false', METRICS_ENABLED: 'true' } });
  });
  afterAll(() => t.close());

  it('every route of the application declares @RequirePermission or @Public', () => {
    const routes = walkRoutes(t);
    // The walk found the application's routes, not an empty list.
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.map((r) => r.route)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^POST GroupsController\.create/)]),
    );
    // …and all of them: Express serves exactly as many routes as the controllers declare.
    expect(expressRoutes(t)).toHaveLength(routes.filter((r) => !r.route.startsWith('ALL ')).length);
    expect(routes.filter((r) => !r.declared).map((r) => r.route)).toEqual([]);
  });

  it('runs after the authentication guard', () => {
    const config = (t.app as unknown as { config: ApplicationConfig }).config;
    const names = config.getGlobalGuards().map((g) => g.constructor.name);
    expect(names).toContain('AuthenticationGuard');
    expect(names.indexOf('AuthenticationGuard')).toBeLessThan(names.indexOf('AuthorizationGuard'));
  });

  describe('with a route that declares nothing', () => {
    let u: TestApp;
    beforeAll(async () => {
      u = await createTestApp({ imports: [ForgottenModule], settings: { DOCS_ENABLED: 'false' } });
    });
    afterAll(() => u.close());

    it('the walk reports it', () => {
      expect(
        walkRoutes(u)
          .filter((r) => !r.declared)
          .map((r) => r.route),
      ).toEqual(['GET ForgottenController.list (/)']);
    });

    it('refuses it with 403 even to staff, and logs it', async () => {
      const staff = await createUser(u, { isStaff: true });
      const res = await u.http.get('/api/v1/forgotten').set(staff.auth).expect(403);
      expect(res.body.error).toBe('forbidden');
      expect(JSON.stringify(res.body)).not.toContain('should never be served');
      expect(
        u.logs.some(
          (l) => l.includes('neither @RequirePermission() nor @Public()') && l.includes('ForgottenController.list'),
        ),
      ).toBe(true);
    });
  });
});
