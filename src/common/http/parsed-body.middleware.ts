import type { NextFunction, Request, Response } from 'express';

/** How deep a request body may nest objects and arrays; our bodies need three or four levels. */
export const MAX_BODY_DEPTH = 64;

/** An unpaired UTF-16 surrogate (JSON lets `"\ud800"` through): not a character, so no text can hold it. */
const LONE_SURROGATE = /\p{Cs}/u;

/** What is wrong with a parsed body, if anything; walks it without recursion. */
function problemOf(body: object): 'too_deep' | 'not_unicode' | undefined {
  const pending: [object, number][] = [[body, 1]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (depth > MAX_BODY_DEPTH) return 'too_deep';
    for (const [key, child] of Object.entries(value)) {
      if (LONE_SURROGATE.test(key)) return 'not_unicode';
      if (typeof child === 'string' && LONE_SURROGATE.test(child)) return 'not_unicode';
      if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
    }
  }
  return undefined;
}

const ERRORS = {
  too_deep: { type: 'entity.too.deep', message: `The request body is nested deeper than ${MAX_BODY_DEPTH} levels.` },
  not_unicode: {
    type: 'entity.not.unicode',
    message: 'The request body holds text that is not valid Unicode (an unpaired surrogate such as \\ud800).',
  },
};

/**
 * Runs after the body parsers and refuses, as body-parser errors (so the common and the token endpoint's
 * error handlers both map them), what parses but would fail later with a 500: a body nested thousands of
 * levels deep, which validation walks recursively until the stack is exhausted, and strings holding an
 * unpaired surrogate, which e-mail validation throws on and PostgreSQL refuses in JSON.
 */
export function checkParsedBody(req: Request, _res: Response, next: NextFunction): void {
  const body: unknown = req.body;
  const problem = typeof body === 'object' && body !== null ? problemOf(body) : undefined;
  if (problem === undefined) return next();
  const { type, message } = ERRORS[problem];
  next(Object.assign(new Error(message), { status: 400, expose: true, type }));
}
