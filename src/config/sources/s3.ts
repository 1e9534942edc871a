import type { SettingsSource } from './types';

/** `s3://BUCKET/KEY`: credentials from the AWS default chain; S3_* settings reach S3-compatible stores. */
export const readS3Object: SettingsSource = async ({ ref, signal, get }) => {
  const url = new URL(ref);
  const bucket = url.hostname;
  const key = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!bucket || !key) throw new Error('expected s3://bucket/key');
  const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    region: get('S3_REGION'),
    endpoint: get('S3_ENDPOINT'),
    forcePathStyle: get('S3_FORCE_PATH_STYLE'),
  });
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    if (!out.Body) throw new Error('empty object');
    return await out.Body.transformToString('utf8');
  } finally {
    client.destroy();
  }
};
