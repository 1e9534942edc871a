import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactMissingError, ArtifactStorage } from './artifact-storage';

/** Artifacts as files under one folder; writes go to a temporary file renamed into place, so readers never see half a file. */
export class FsArtifactStorage implements ArtifactStorage {
  readonly kind = 'fs' as const;
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  keyFor(jobId: string, lease: number, name: string): string {
    return `jobs/${jobId}/${lease}/${name}`;
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`Artifact key outside the artifact folder: ${key}`);
    return path;
  }

  async write(key: string, body: Readable): Promise<{ size: number }> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.partial`;
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, count, createWriteStream(temporary));
      await rename(temporary, path);
    } catch (e) {
      await rm(temporary, { force: true });
      throw e;
    }
    return { size };
  }

  async read(key: string): Promise<Readable> {
    try {
      // Opening first turns a missing file into an error before any byte is sent.
      const handle = await open(this.pathOf(key), 'r');
      return handle.createReadStream();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactMissingError(key);
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async deleteJob(jobId: string): Promise<void> {
    await rm(join(this.root, 'jobs', jobId), { recursive: true, force: true });
  }
}
