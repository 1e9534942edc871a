import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig, DiscoveryService, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory';
import type { TestApp } from './test-app';

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every controller route as `METHOD /full/path`, the path built by Nest's own RoutePathFactory (prefix and its exclusions applied). */
export function controllerRoutes(t: TestApp): string[] {
  const config = (t.app as unknown as { config: ApplicationConfig }).config;
  const paths = new RoutePathFactory(config);
  const discovery = new DiscoveryService(t.app.get(ModulesContainer));
  const scanner = new MetadataScanner();
  const routes: string[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (new (...args: unknown[]) => object) | undefined;
    if (!controller) continue;
    const ctrlPaths = [(Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined) ?? '/'].flat();
    for (const name of scanner.getAllMethodNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, object>)[name];
      const methodPaths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (methodPaths === undefined) continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
      for (const ctrlPath of ctrlPaths) {
        for (const methodPath of [methodPaths].flat()) {
          for (const path of paths.create({ ctrlPath, methodPath, globalPrefix: config.getGlobalPrefix() }, method)) {
            routes.push(`${RequestMethod[method]} ${path}`);
          }
        }
      }
    }
  }
  return routes;
}

/**
 * The routes the running application serves, as `METHOD /path/:param` the way Nest registered
 * them with Express: controller routes and the routes mounted beside them (the OpenAPI UI and
 * documents). A router layer answering every method is either Nest middleware bound to all routes
 * or an @All() handler; the controllers tell which. Throws if a controller route is not served,
 * so the walk and the router never silently disagree.
 */
export function applicationRoutes(t: TestApp): string[] {
  const layers = (t.app.getHttpAdapter().getInstance() as { router: { stack: RouterLayer[] } }).router.stack;
  const served = new Set<string>();
  const everyMethod = new Set<string>();
  for (const { route } of layers) {
    if (!route) continue;
    const methods = Object.keys(route.methods);
    if (methods.length === 1) served.add(`${methods[0].toUpperCase()} ${route.path}`);
    else everyMethod.add(route.path);
  }
  for (const route of controllerRoutes(t)) {
    const [method, path] = route.split(' ');
    if (method === 'ALL' && everyMethod.has(path)) served.add(route);
    else if (!served.has(route)) throw new Error(`${route} is declared by a controller but Express does not serve it`);
  }
  return [...served].sort();
}
