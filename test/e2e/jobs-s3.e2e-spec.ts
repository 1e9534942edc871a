import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getDataSourceToken } from '@nestjs/typeorm';
import { mkdtempSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { Job } from '../../src/jobs/job.entity';
import { JobsRetention } from '../../src/jobs/jobs.retention';
import { JobsService } from '../../src/jobs/jobs.service';
import { abilityOf, jobSettings, principal, waitFor } from '../utils/jobs-helpers';
import { fileContent, JobsTestModule, STEPS_JOB } from '../utils/jobs-test.module';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

/** s3rver (a local S3-compatible server) ships no types: the part used here. */
interface LocalS3 {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => LocalS3;

const BUCKET = 'campus-artifacts';
const PREFIX = 'test-run/';

describe('Job artifacts in S3', () => {
  let s3: LocalS3;
  let endpoint: string;
  let t: TestApp;
  let client: S3Client;
  const owner = principal();

  beforeAll(async () => {
    // s3rver checks signatures made with its default key pair.
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: mkdtempSync(join(tmpdir(), 'ca-s3-')),
      configureBuckets: [{ name: BUCKET }],
    });
    const { port } = await s3.run();
    endpoint = `http://127.0.0.1:${port}`;
    t = await createTestApp({
      imports: [JobsTestModule],
      settings: jobSettings('in-process', {
        JOB_ARTIFACT_STORAGE: 's3',
        JOB_ARTIFACT_S3_BUCKET: BUCKET,
        JOB_ARTIFACT_S3_PREFIX: PREFIX,
        S3_ENDPOINT: endpoint,
        S3_FORCE_PATH_STYLE: 'true',
      }),
    });
    client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true });
  });
  afterAll(async () => {
    client?.destroy();
    await t?.close();
    await s3?.close();
  });

  const keys = async (prefix: string) =>
    ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map(
      (o) => o.Key,
    );

  it('streams a large artifact to S3 in parts and back to its owner, keeps small text inline, and purges it', async () => {
    const bytes = 10 * 1024 * 1024 + 123;
    const jobs = t.app.get(JobsService);
    const { id } = await jobs.enqueue(
      STEPS_JOB,
      { steps: 1, result: 'stored in S3', file: { name: 'big.txt', bytes } },
      { owner },
    );
    const done = await waitFor(
      async () => {
        const job = await t.app.get<DataSource>(getDataSourceToken()).getRepository(Job).findOneByOrFail({ id });
        return ['Succeeded', 'Failed'].includes(job.state) && job;
      },
      30_000,
      'the job',
    );
    expect(done).toMatchObject({ state: 'Succeeded', error: null });

    const db = t.app.get<DataSource>(getDataSourceToken());
    expect(
      await db.query(
        `SELECT name, storage, key, size::int AS size FROM job_artifacts WHERE job_id = $1 ORDER BY name`,
        [id],
      ),
    ).toEqual([
      { name: 'big.txt', storage: 's3', key: `${PREFIX}jobs/${id}/1/big.txt`, size: bytes },
      { name: 'result', storage: null, key: null, size: 12 },
    ]);
    expect(await keys(`${PREFIX}jobs/${id}/`)).toEqual([`${PREFIX}jobs/${id}/1/big.txt`]);

    const download = await jobs.openArtifact(await abilityOf(t, owner), id, 'big.txt');
    const chunks: Buffer[] = [];
    for await (const chunk of download.stream!) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(Buffer.concat(await fileContent(bytes).toArray()))).toBe(true);
    expect((await jobs.get(await abilityOf(t, owner), id)).text).toBe('stored in S3');

    await db.query(`UPDATE jobs SET finished_at = now() - interval '90 days' WHERE id = $1`, [id]);
    expect(await t.app.get(JobsRetention).purgeExpired()).toBe(1);
    expect(await keys(`${PREFIX}jobs/${id}/`)).toEqual([]);
  });

  it('purges the objects of a job that ran even when no artifact row names them', async () => {
    const jobs = t.app.get(JobsService);
    const db = t.app.get<DataSource>(getDataSourceToken());
    const { id } = await jobs.enqueue(STEPS_JOB, { steps: 1, result: 'inline only' }, { owner });
    await waitFor(
      async () => (await db.getRepository(Job).findOneByOrFail({ id })).state === 'Succeeded',
      30_000,
      'the job',
    );
    // What a run killed mid-upload leaves: bytes under the job's prefix that no row points to.
    const orphan = `${PREFIX}jobs/${id}/1/partial.csv`;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: orphan, Body: 'half an export' }));
    await db.query(`UPDATE jobs SET finished_at = now() - interval '90 days' WHERE id = $1`, [id]);
    expect(await t.app.get(JobsRetention).purgeExpired()).toBe(1);
    expect(await keys(`${PREFIX}jobs/${id}/`)).toEqual([]);
  });

  it('keeps the row of a job whose objects could not be removed, for the next purge', async () => {
    // The bucket is gone: listing the job's objects fails, so the purge must not forget the job.
    const broken = await createTestApp({
      imports: [JobsTestModule],
      settings: jobSettings('in-process', {
        JOB_ARTIFACT_S3_BUCKET: 'no-such-bucket',
        S3_ENDPOINT: endpoint,
        S3_FORCE_PATH_STYLE: 'true',
      }),
    });
    try {
      const db = broken.app.get<DataSource>(getDataSourceToken());
      const { id } = await broken.app.get(JobsService).enqueue(STEPS_JOB, { steps: 1 }, { owner });
      await waitFor(
        async () => (await db.getRepository(Job).findOneByOrFail({ id })).state === 'Succeeded',
        30_000,
        'the job',
      );
      await db.query(`UPDATE jobs SET finished_at = now() - interval '90 days' WHERE id = $1`, [id]);
      expect(await broken.app.get(JobsRetention).purgeExpired()).toBe(0);
      expect(await db.getRepository(Job).findOneBy({ id })).not.toBeNull();
    } finally {
      await broken.close();
    }
  });
});
