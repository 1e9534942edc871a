import busboy from 'busboy';
import { CsvError, parse } from 'csv-parse';
import type { IncomingMessage } from 'node:http';
import { pipeline, Readable, Transform } from 'node:stream';
import { RegistrarError } from './registrar.errors';

export interface UploadedRow {
  /** The line of the file the row ends on; the header is line 1. */
  line: number;
  cells: Record<string, string>;
}

export interface UploadLimits {
  maxBytes: number;
  /** Columns the header must name (others are ignored, unless `optional` is given). */
  required: readonly string[];
  /** When given, the only other columns the header may name: any further column is a structure error. */
  optional?: readonly string[];
  /** Rows handed to `onRows` at a time. */
  batchSize: number;
}

/** Passes UTF-8 text through and fails at the first byte sequence that is not UTF-8. */
class Utf8Check extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: string) => void): void {
    try {
      done(null, this.decoder.decode(chunk, { stream: true }));
    } catch {
      done(new RegistrarError('invalid_upload', 'The file is not UTF-8 text.'));
    }
  }

  override _flush(done: (err?: Error | null, data?: string) => void): void {
    try {
      done(null, this.decoder.decode());
    } catch {
      done(new RegistrarError('invalid_upload', 'The file is not UTF-8 text.'));
    }
  }
}

const invalid = (message: string, details?: Record<string, unknown>) =>
  new RegistrarError('invalid_upload', message, details);

/** A csv-parse error in our words, with the line it is on. */
function structureError(e: unknown): unknown {
  if (e instanceof RegistrarError) return e;
  if (e instanceof CsvError) {
    const line = (e as CsvError & { lines?: number }).lines;
    if (e.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' || e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      return invalid('A row does not have as many cells as the header.', { line });
    }
    return invalid(`The file is not valid CSV: ${e.message}`, { line });
  }
  return e;
}

/** Reads the CSV of one file stream in batches; rejects with the first structure error. */
async function readCsv(
  file: Readable,
  limits: UploadLimits,
  onRows: (rows: UploadedRow[]) => Promise<void>,
): Promise<number> {
  let header: string[] | null = null;
  const parser = parse({
    bom: true,
    info: true,
    skip_empty_lines: true,
    columns: (names: string[]) => {
      const missing = limits.required.filter((c) => !names.includes(c));
      if (missing.length > 0) {
        throw invalid(`The header must name the columns ${limits.required.join(', ')}.`, { missing });
      }
      if (limits.optional) {
        const known = new Set([...limits.required, ...limits.optional]);
        const unknown = names.filter((c) => !known.has(c));
        if (unknown.length > 0) {
          throw invalid(`The header names columns this file cannot have: ${unknown.join(', ')}.`, {
            unknown,
            allowed: [...known],
          });
        }
        const twice = names.filter((c, i) => names.indexOf(c) !== i);
        if (twice.length > 0) throw invalid('The header names a column twice.', { duplicated: twice });
      }
      header = names;
      return names;
    },
  });
  const check = new Utf8Check();
  let failure: unknown;
  pipeline(file, check, parser, (e) => {
    if (e) failure ??= e;
  });
  let count = 0;
  let batch: UploadedRow[] = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      // The line the record ends on (a quoted cell may span lines).
      const line = info.lines;
      for (const column of limits.required) {
        if (record[column].includes('\u0000')) throw invalid('A cell holds a NUL character.', { line, column });
      }
      batch.push({ line, cells: record });
      count++;
      if (batch.length >= limits.batchSize) {
        await onRows(batch);
        batch = [];
      }
    }
  } catch (e) {
    throw structureError(failure ?? e);
  }
  if (failure) throw structureError(failure);
  if (!header) throw invalid(`The file is empty: it needs the header ${limits.required.join(',')}.`);
  if (batch.length > 0) await onRows(batch);
  return count;
}

/**
 * Streams the `file` part of a multipart request through a UTF-8 check and csv-parse, handing rows
 * over in batches (never the whole file in memory). A BOM, CRLF line ends and quoted fields are
 * accepted. Rejects with 400 `invalid_upload` (no multipart body, no `file` part, a missing header
 * column, a short or long row, text that is not UTF-8) or 413 `upload_too_large`; once it rejects,
 * `onRows` is not called again. Resolves with the number of rows.
 */
export function readCsvUpload(
  req: IncomingMessage,
  limits: UploadLimits,
  onRows: (rows: UploadedRow[]) => Promise<void>,
): Promise<number> {
  if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? '')) {
    return Promise.reject(invalid('Send the CSV as multipart/form-data, in a part named "file".'));
  }
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: limits.maxBytes, fields: 20, parts: 40 } });
  } catch {
    return Promise.reject(invalid('The multipart body cannot be read.'));
  }
  return new Promise<number>((resolve, reject) => {
    let work: Promise<number> | undefined;
    let file: Readable | undefined;
    let closed = false;
    let rows: number | undefined;
    let settled = false;
    const settle = (error: unknown, count?: number) => {
      if (settled) return;
      settled = true;
      if (error === undefined) return resolve(count!);
      req.unpipe(bb);
      req.resume();
      file?.destroy(error as Error);
      // Reject only once the reading has stopped, so no batch is written after the caller moved on.
      void (work ?? Promise.resolve(0)).catch(() => undefined).then(() => reject(error));
    };
    bb.on('file', (name, stream) => {
      if (name !== 'file' || work) {
        stream.resume();
        return;
      }
      file = stream;
      stream.on('limit', () =>
        stream.destroy(
          new RegistrarError('upload_too_large', `The file is larger than ${limits.maxBytes} bytes.`, {
            limit_bytes: limits.maxBytes,
          }),
        ),
      );
      work = readCsv(stream, limits, onRows);
      work.then(
        (count) => {
          rows = count;
          if (closed) settle(undefined, count);
        },
        (e: unknown) => settle(e),
      );
    });
    bb.on('close', () => {
      closed = true;
      if (!work) settle(invalid('The request has no file part named "file".'));
      else if (rows !== undefined) settle(undefined, rows);
    });
    bb.on('error', () => settle(invalid('The multipart body cannot be read.')));
    req.on('error', () => settle(invalid('The upload was interrupted.')));
    req.pipe(bb);
  });
}
