import type { NextFunction, Request, Response } from 'express';

/** How deep a request body may nest objects and arrays; our bodies need three or four levels. */
export const MAX_BODY_DEPTH = 64;

/** Whether a parsed body nests objects or arrays deeper than MAX_BODY_DEPTH; walks it without recursion. */
function tooDeep(body: unknown): boolean {
  const pending: [unknown, number][] = [[body, 1]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (depth > MAX_BODY_DEPTH) return true;
    for (const child of Array.isArray(value) ? value : Object.values(value as object)) {
      if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * Runs after the body parsers. A body nested thousands of levels deep parses, but validation walks it
 * recursively and would exhaust the stack (a 500); it is refused here, as a body-parser error of type
 * `entity.too.deep`, so the common and the token endpoint's error handlers both map it.
 */
export function checkParsedBody(req: Request, _res: Response, next: NextFunction): void {
  const body: unknown = req.body;
  if (typeof body === 'object' && body !== null && tooDeep(body)) {
    const error = Object.assign(new Error(`The request body is nested deeper than ${MAX_BODY_DEPTH} levels.`), { status: 400, expose: true, type: 'entity.too.deep' });
    return next(error);
  }
  next();
}
