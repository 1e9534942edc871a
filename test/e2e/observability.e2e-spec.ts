import { ProbeModule } from '../utils/probe.module';
import { createTestApp, TestApp } from '../utils/test-app';

interface LogLine {
  level: number;
  msg: string;
  req?: { id: string; method: string; url: string; headers: Record<string, unknown> };
  res?: { statusCode: number };
}

/** Sample lines of one metric, as `{ labels, value }`. */
function samples(text: string, metric: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== metric) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

describe('observability', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ imports: [ProbeModule] });
  });
  afterAll(() => t.close());

  const parsedLogs = (): LogLine[] => t.logs.map((line) => JSON.parse(line) as LogLine);

  it('serves Prometheus metrics with request durations labelled by route pattern and status', async () => {
    await t.http.get('/health/live').expect(200);
    await t.http.get('/health/live').expect(200);
    await t.http.get('/api/v1/probe/db').expect(200);
    await t.http.get('/api/v1/probe/numbers?page_size=3').expect(200);
    await t.http.get('/api/v1/no/such/route-7f3a91').expect(404);

    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain;/);
    expect(res.headers['content-type']).toContain('version=0.0.4');
    expect(res.text).toContain('# TYPE http_request_duration_seconds histogram');

    const counts = samples(res.text, 'http_request_duration_seconds_count');
    const live = counts.find((s) => s.labels.route === '/health/live' && s.labels.status === '200');
    expect(live).toMatchObject({ labels: { method: 'GET' } });
    expect(live!.value).toBeGreaterThanOrEqual(2);
    expect(
      counts.find((s) => s.labels.route === '/api/v1/probe/db' && s.labels.status === '200')?.value,
    ).toBeGreaterThanOrEqual(1);
    expect(
      counts.find((s) => s.labels.route === '/api/v1/probe/numbers' && s.labels.status === '200')?.value,
    ).toBeGreaterThanOrEqual(1);
    expect(
      counts.find((s) => s.labels.route === 'unmatched' && s.labels.status === '404')?.value,
    ).toBeGreaterThanOrEqual(1);

    const buckets = samples(res.text, 'http_request_duration_seconds_bucket').filter(
      (s) => s.labels.route === '/health/live',
    );
    expect(buckets.find((s) => s.labels.le === '+Inf')?.value).toBe(live!.value);
    // Raw URLs never become label values.
    expect(res.text).not.toContain('route-7f3a91');
    expect(res.text).not.toContain('page_size');
  });

  it('writes JSON logs carrying the request id', async () => {
    await t.http.get('/health/ready').set('X-Request-Id', 'obs-ready-1').expect(200);

    const lines = parsedLogs();
    expect(lines.length).toBeGreaterThan(0);
    const completed = lines.find((l) => l.req?.id === 'obs-ready-1');
    expect(completed).toMatchObject({
      msg: 'request completed',
      req: { method: 'GET', url: '/health/ready' },
      res: { statusCode: 200 },
    });
  });

  it('keeps bearer tokens, cookies and OAuth query values out of the logs', async () => {
    const secrets = ['secret-token-xyz', 'sess-cookie-5b8c2e', 'abc123'];
    const send = (path: string, id: string) =>
      t.http
        .get(`${path}?code=abc123&state=s1`)
        .set('X-Request-Id', id)
        .set('Authorization', 'Bearer secret-token-xyz')
        .set('Cookie', 'session=sess-cookie-5b8c2e');
    await send('/health/ready', 'obs-secret-ready').expect(200);
    await send('/api/v1/no/such/route', 'obs-secret-404').expect(404);
    await send('/api/v1/probe/boom', 'obs-secret-500').expect(500);

    const lines = parsedLogs();
    for (const id of ['obs-secret-ready', 'obs-secret-404', 'obs-secret-500']) {
      const line = lines.find((l) => l.req?.id === id && l.res);
      expect(line).toBeDefined();
      expect(line!.req!.url).toMatch(/\?code=%5BRedacted%5D&state=%5BRedacted%5D$/);
    }
    const joined = t.logs.join('\n');
    for (const secret of secrets) expect(joined).not.toContain(secret);
    expect(joined).not.toMatch(/state=s1\b/);
  });

  it('serves the OpenAPI UI at /docs and the document at /openapi.json', async () => {
    const docs = await t.http.get('/docs').expect(200);
    expect(docs.headers['content-type']).toMatch(/^text\/html/);
    expect(docs.text).toContain('Campus Access API');

    const spec = await t.http.get('/openapi.json').expect(200);
    expect(spec.headers['content-type']).toMatch(/^application\/json/);
    expect(spec.body.openapi).toMatch(/^3\./);
    expect(spec.body.info.title).toBe('Campus Access');
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
  });
});
