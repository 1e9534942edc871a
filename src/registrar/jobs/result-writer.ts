import { pipeline, Readable } from 'node:stream';
import type { JobContext } from '../../jobs/processors/job-processor';
import { registrarCsv } from '../registrar-csv';
import { CONTENT_TYPES, resultArtifact, ResultFormat } from './registrar.jobs';

/** Least time between two progress reports of a result file. */
const PROGRESS_EVERY_MS = 250;

/** A page of a JSON result already serialized: the objects joined by commas, and how many there are. */
export interface SerializedPage {
  json: string;
  count: number;
}

/** Rows as objects (either format), or, for a JSON result only, already serialized. */
export type ResultPage = Record<string, unknown>[] | SerializedPage;

/**
 * Streams pages of rows into the job's result file (`result.json`, a JSON array, or `result.csv`
 * with a header row), recording progress after each page: memory stays flat whatever the row count.
 */
export async function writeResultFile<P extends object>(
  ctx: JobContext<P>,
  format: ResultFormat,
  columns: readonly string[],
  pages: AsyncIterable<ResultPage>,
  total: number,
): Promise<number> {
  let written = 0;
  let reported = 0;
  const progress = async (n: number) => {
    written += n;
    // Each report is a committed write (and the cancel check): at most a few a second, not one a page.
    if (Date.now() - reported < PROGRESS_EVERY_MS) return;
    reported = Date.now();
    await ctx.progress(written, Math.max(total, written));
  };
  let body: Readable;
  if (format === 'json') {
    body = Readable.from(
      (async function* () {
        yield '[';
        for await (const page of pages) {
          if (Array.isArray(page)) {
            yield page.map((row, i) => (written + i === 0 ? '' : ',') + JSON.stringify(row)).join('');
            await progress(page.length);
          } else if (page.count > 0) {
            yield (written === 0 ? '' : ',') + page.json;
            await progress(page.count);
          }
        }
        yield ']';
      })(),
    );
  } else {
    const rows = Readable.from(
      (async function* () {
        for await (const page of pages) {
          if (!Array.isArray(page)) throw new Error('A CSV result is written from rows, not serialized JSON.');
          for (const row of page) yield row;
          await progress(page.length);
        }
      })(),
      { objectMode: true },
    );
    const csv = registrarCsv(columns);
    // As the users export: pipeline hears an error of the rows (a cancel seen at a progress report)
    // at any time and destroys the CSV stream with it, so the artifact write fails with it.
    pipeline(rows, csv, () => undefined);
    body = csv;
  }
  try {
    await ctx.writeArtifact(resultArtifact(format), body, { contentType: CONTENT_TYPES[format] });
  } finally {
    body.destroy();
  }
  return written;
}
