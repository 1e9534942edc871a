import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { join } from 'node:path';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import type { ArtifactStorageKind } from '../job-artifact.entity';
import { ArtifactStorage } from './artifact-storage';
import { FsArtifactStorage } from './fs.artifact-storage';
import { S3ArtifactStorage } from './s3.artifact-storage';

/**
 * The configured artifact storages: new artifacts go to JOB_ARTIFACT_STORAGE; older ones are read
 * from wherever their row says they were written (the local folder is always readable).
 */
@Injectable()
export class ArtifactStore implements OnModuleDestroy {
  readonly writer: ArtifactStorage;
  private readonly fs: FsArtifactStorage;
  private readonly s3?: S3ArtifactStorage;

  constructor(@InjectSettings() settings: Settings) {
    this.fs = new FsArtifactStorage(settings.JOB_ARTIFACT_DIR || join(settings.DATA_DIR, 'artifacts'));
    if (settings.JOB_ARTIFACT_S3_BUCKET) {
      this.s3 = new S3ArtifactStorage({
        bucket: settings.JOB_ARTIFACT_S3_BUCKET,
        prefix: settings.JOB_ARTIFACT_S3_PREFIX,
        region: settings.S3_REGION,
        endpoint: settings.S3_ENDPOINT,
        forcePathStyle: settings.S3_FORCE_PATH_STYLE,
      });
    }
    if (settings.JOB_ARTIFACT_STORAGE === 's3' && !this.s3) {
      throw new Error('JOB_ARTIFACT_STORAGE is s3 but JOB_ARTIFACT_S3_BUCKET is not set');
    }
    this.writer = settings.JOB_ARTIFACT_STORAGE === 's3' ? this.s3! : this.fs;
  }

  storage(kind: ArtifactStorageKind): ArtifactStorage {
    if (kind === 's3') {
      if (!this.s3) throw new Error('An artifact is stored in S3 but JOB_ARTIFACT_S3_BUCKET is not set');
      return this.s3;
    }
    return this.fs;
  }

  /** Removes a job's stored objects from every configured storage: the local folder, and S3 when a bucket is set. */
  async deleteJob(jobId: string): Promise<void> {
    await this.fs.deleteJob(jobId);
    await this.s3?.deleteJob(jobId);
  }

  onModuleDestroy(): void {
    this.s3?.destroy();
  }
}
