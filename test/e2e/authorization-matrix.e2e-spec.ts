import type { Test } from 'supertest';
import { CELL_COUNT, KNOWN_ISSUES, MATRIX, MatrixRoute } from '../authorization-matrix';
import { createOrganization, createServiceAccount, createStaff, createUser } from '../factories/accounts';
import { applicationRoutes } from '../utils/application-routes';
import { CALLERS, CallerName, Scene, SceneKit } from '../utils/authorization-scene';
import { jobSettings } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

/** Cells in flight at once: enough to keep two cores busy, few enough that no request queues for long. */
const CONCURRENCY = 8;

interface CellResult {
  status?: number;
  /** The error code of the body, to tell a 404 from the guard from one of the service in a failure. */
  code?: string;
  /** The setup or the request failed before an answer. */
  failure?: string;
}

const cellKey = (route: string, caller: CallerName) => `${route} | ${caller}`;

/** `/api/v1/projects/:id` (or a wildcard, `/x/*path`) → a RegExp matching the concrete paths of that pattern. */
function patternOf(route: string): RegExp {
  const path = route.slice(route.indexOf(' ') + 1);
  const escaped = path
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/:[A-Za-z]+/g, '[^/]+')
    .replace(/\\\*[A-Za-z]+/g, '.+');
  return new RegExp(`^${escaped}$`);
}

async function runCell(kit: SceneKit, world: Scene, entry: MatrixRoute, caller: CallerName): Promise<CellResult> {
  try {
    const scene = entry.fresh ? new Scene(kit) : world;
    const [method] = entry.route.split(' ');
    const req = await entry.request(scene);
    if (!patternOf(entry.route).test(req.path))
      return { failure: `the request's path ${req.path} is not on the route` };
    const headers = await scene.headers(caller);
    const http = kit.t.http;
    const open: Record<string, (path: string) => Test> = {
      GET: (path) => http.get(path),
      POST: (path) => http.post(path),
      PUT: (path) => http.put(path),
      PATCH: (path) => http.patch(path),
      DELETE: (path) => http.delete(path),
      // An @All() route answers every method; GET stands for them.
      ALL: (path) => http.get(path),
    };
    if (!open[method]) return { failure: `no way to send ${method}` };
    let test = open[method](req.path);
    test = test.set(headers);
    if (req.headers) test = test.set(req.headers);
    if (req.query) test = test.query(req.query);
    if (req.file) test = test.attach(req.file.field, Buffer.from(req.file.content, 'utf8'), req.file.name);
    else if (req.form) test = test.type('form').send(req.form);
    else if (req.body !== undefined) test = test.send(req.body);
    const res = await test;
    const code = res.body && typeof res.body === 'object' ? (res.body as { error?: unknown }).error : undefined;
    return { status: res.status, code: typeof code === 'string' ? code : undefined };
  } catch (e) {
    return { failure: e instanceof Error ? e.message : String(e) };
  }
}

/** `work` on every item, at most `limit` in flight; the results in the order of the items. */
async function inPool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const issueFor = (route: string, caller: CallerName) =>
  KNOWN_ISSUES.find((i) => i.route === route && i.caller === caller);

describe('Authorization matrix: every route × every caller', () => {
  let t: TestApp;
  const results = new Map<string, CellResult>();

  beforeAll(async () => {
    const started = Date.now();
    t = await createTestApp({
      settings: {
        ...jobSettings('in-process'),
        DOCS_ENABLED: 'true',
        METRICS_ENABLED: 'true',
        // Every caller logs in and asks for tokens from one address within the same minute.
        LOGIN_RATE_LIMIT: '100000',
      },
    });
    // One listening server for all requests, rather than one per request.
    await t.app.listen(0, '127.0.0.1');

    const password = 'correct horse battery staple';
    const loginUser = await createUser(t, { password });
    const client = await createServiceAccount(t, (await createOrganization(t)).id);
    const kit: SceneKit = {
      t,
      staff: await createStaff(t),
      login: { username: loginUser.row.username, password },
      client: { clientId: client.row.clientId, secret: client.clientSecret },
    };

    // The shared scene of read-only cells: its objects and callers exist before any cell runs.
    const world = new Scene(kit);
    await Promise.all([
      world.project(),
      world.otherProject(),
      world.otherOrg(),
      world.user(),
      world.serviceAccount(),
      world.group(),
      world.job(),
      world.courseAccount(),
      world.program(),
    ]);
    for (const caller of CALLERS) await world.headers(caller);
    const setUp = Date.now();

    const cells = MATRIX.flatMap((entry) => CALLERS.map((caller) => ({ entry, caller })));
    const answers = await inPool(cells, CONCURRENCY, ({ entry, caller }) => runCell(kit, world, entry, caller));
    cells.forEach(({ entry, caller }, i) => results.set(cellKey(entry.route, caller), answers[i]));
    console.log(
      `authorization matrix: ${MATRIX.length} routes × ${CALLERS.length} callers = ${cells.length} cells; ` +
        `set-up ${setUp - started} ms, cells ${Date.now() - setUp} ms (${CONCURRENCY} at a time)`,
    );
  }, 180_000);

  afterAll(() => t?.close());

  it('lists every route of the application, and only those', () => {
    const served = applicationRoutes(t);
    const listed = MATRIX.map((r) => r.route);
    expect(served.length).toBeGreaterThan(40);
    expect({
      missingFromTheTable: served.filter((r) => !listed.includes(r)),
      notInTheApplication: listed.filter((r) => !served.includes(r)),
    }).toEqual({
      missingFromTheTable: [],
      notInTheApplication: [],
    });
    expect(listed.filter((r, i) => listed.indexOf(r) !== i)).toEqual([]);
    // The count written at the top of the table stays true.
    expect(MATRIX.length * CALLERS.length).toBe(CELL_COUNT);
  });

  it.each(MATRIX.map((entry) => [entry.route, entry] as const))('%s', (route, entry) => {
    const wrong: string[] = [];
    for (const caller of CALLERS) {
      const cell = results.get(cellKey(route, caller));
      const issue = issueFor(route, caller);
      // A known issue must still answer what it answered when it was recorded: once it changes, it
      // is fixed (take it off the list) or broken differently (look again).
      const wanted = issue ? issue.actual : entry.expect[caller];
      if (!cell || cell.failure !== undefined) wrong.push(`${caller}: ${cell?.failure ?? 'not run'}`);
      else if (cell.status !== wanted) {
        wrong.push(
          issue
            ? `${caller}: known issue recorded as ${issue.actual} (correct: ${entry.expect[caller]}) now answers ${cell.status} ${cell.code ?? ''}`
            : `${caller}: expected ${wanted}, got ${cell.status} ${cell.code ?? ''}`,
        );
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps its known issues honest, and reports them', () => {
    const problems: string[] = [];
    for (const [i, issue] of KNOWN_ISSUES.entries()) {
      if (KNOWN_ISSUES.findIndex((o) => o.route === issue.route && o.caller === issue.caller) !== i)
        problems.push(`${issue.route} ${issue.caller}: listed twice`);
      const entry = MATRIX.find((r) => r.route === issue.route);
      if (!entry) problems.push(`${issue.route}: not in the table`);
      else if (entry.expect[issue.caller] === issue.actual)
        problems.push(`${issue.route} ${issue.caller}: the table expects what the issue says it answers`);
    }
    expect(problems).toEqual([]);
    // One paragraph per cause, with the cells it breaks.
    const causes = [...new Set(KNOWN_ISSUES.map((i) => i.why))].map((why) => {
      const cells = KNOWN_ISSUES.filter((i) => i.why === why).map((i) => {
        const correct = MATRIX.find((r) => r.route === i.route)!.expect[i.caller];
        return `    ${i.route} as ${i.caller}: ${i.actual}, should be ${correct}`;
      });
      return `  ${why}\n${cells.join('\n')}`;
    });
    if (causes.length > 0)
      console.warn(
        `authorization matrix: ${KNOWN_ISSUES.length} known issue(s), answering as recorded:\n${causes.join('\n')}`,
      );
  });
});
