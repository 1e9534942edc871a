import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { OPENAPI_PATH, renderOpenApiYaml } from '../../scripts/write-openapi';
import { createTestApp, TestApp } from '../utils/test-app';

interface Document {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, unknown> };
}

describe('OpenAPI document', () => {
  let committed: string;
  beforeAll(() => {
    committed = readFileSync(OPENAPI_PATH, 'utf8');
  });

  it('openapi.yaml matches the code (run npm run openapi when this fails)', async () => {
    const fresh = await renderOpenApiYaml();
    if (fresh !== committed) {
      throw new Error('openapi.yaml is out of date with the routes in src/: run npm run openapi and commit the result');
    }
  });

  it('gives every operation a summary, so /docs reads as a manual', () => {
    const file = parse(committed) as Document;
    const unsummarized = Object.entries(file.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, op]) => !(op as { summary?: string }).summary?.trim())
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(unsummarized).toEqual([]);
  });

  describe('served by the application', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(() => t.close());

    it('serves /openapi.json with the same paths, operations and schemas as openapi.yaml', async () => {
      const res = await t.http.get('/openapi.json').expect(200);
      const served = res.body as Document;
      const file = parse(committed) as Document;
      expect(Object.keys(served.paths).sort()).toEqual(Object.keys(file.paths).sort());
      expect(served.paths).toEqual(file.paths);
      expect(served.components?.schemas ?? {}).toEqual(file.components?.schemas ?? {});
    });

    it('documents the health routes outside /api/v1 and leaves /metrics out', () => {
      const file = parse(committed) as Document;
      expect(Object.keys(file.paths)).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
      expect(file.paths['/metrics']).toBeUndefined();
    });
  });
});
