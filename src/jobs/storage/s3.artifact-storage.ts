import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  NoSuchKey,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable, Transform } from 'node:stream';
import { ArtifactMissingError, ArtifactStorage } from './artifact-storage';

export interface S3ArtifactStorageOptions {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
}

/** Artifacts in an S3 bucket; streams of unknown length go up as multipart uploads, never whole in memory. */
export class S3ArtifactStorage implements ArtifactStorage {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  /** Set once the store has refused to list multipart uploads; not asked again by this process. */
  private uploadsUnlistable = false;

  constructor(private readonly options: S3ArtifactStorageOptions) {
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
    });
  }

  /** Every object of a job lives under this prefix. */
  private jobPrefix(jobId: string): string {
    return `${this.options.prefix}jobs/${jobId}/`;
  }

  keyFor(jobId: string, lease: number, name: string): string {
    return `${this.jobPrefix(jobId)}${lease}/${name}`;
  }

  async write(key: string, body: Readable, contentType: string): Promise<{ size: number }> {
    let size = 0;
    const counted = body.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          done(null, chunk);
        },
      }),
    );
    body.once('error', (e) => counted.destroy(e));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: key, Body: counted, ContentType: contentType },
      queueSize: 2,
      partSize: 8 * 1024 * 1024,
    });
    await upload.done();
    return { size };
  }

  async read(key: string): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      if (!out.Body) throw new ArtifactMissingError(key);
      return out.Body as Readable;
    } catch (e) {
      if (e instanceof NoSuchKey || (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404)) {
        throw new ArtifactMissingError(key);
      }
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
  }

  async deleteJob(jobId: string): Promise<void> {
    const prefix = this.jobPrefix(jobId);
    await this.abortUploads(prefix);
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length > 0) {
        await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: keys, Quiet: true } }),
        );
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * Aborts the multipart uploads a killed worker left unfinished (their parts are billed but listed as
   * no object). A store that cannot list uploads (NotImplemented), or credentials without
   * s3:ListBucketMultipartUploads (AccessDenied), leave this to a lifecycle rule that aborts incomplete
   * uploads (see the jobs README); the objects themselves are still removed.
   */
  private async abortUploads(prefix: string): Promise<void> {
    if (this.uploadsUnlistable) return;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.options.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
      } catch (e) {
        if (e instanceof S3ServiceException && (e.name === 'NotImplemented' || e.name === 'AccessDenied')) {
          this.uploadsUnlistable = true;
          return;
        }
        throw e;
      }
      for (const upload of page.Uploads ?? []) {
        await this.client.send(
          new AbortMultipartUploadCommand({
            Bucket: this.options.bucket,
            Key: upload.Key!,
            UploadId: upload.UploadId!,
          }),
        );
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  destroy(): void {
    this.client.destroy();
  }
}
