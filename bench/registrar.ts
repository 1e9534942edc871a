/**
 * Registrar API: enrollment exports and CSV uploads, as jobs, on the real application.
 *
 *   npm run bench:registrar
 *
 * 1. Export of a program's enrollments (`registrar.program-enrollments.read`, JSON and CSV), at two
 *    sizes (BENCH_EXPORT_SIZES, default 20000,100000): rows per second from the enqueue to the
 *    Succeeded row (keyset pages of 5,000, the result file streamed into the artifact store) against a
 *    raw `COPY (SELECT …) TO STDOUT` of the same rows through pg-copy-streams into a file of the same
 *    folder, in the same run. BENCH_ROUNDS rounds (default 3), the two sides back to back with their
 *    order alternated, medians compared. Goal: ≥ 30 % of COPY's rows per second.
 * 2. Memory of each export: RSS and V8 heap sampled every 10 ms during the job, peak minus the value
 *    before it; flat means the same at both sizes.
 * 3. CSV uploads through HTTP (`POST …/enrollments/upload`, a multipart body streamed by the client,
 *    never held whole) of BENCH_UPLOAD_SIZES rows (default 100000,1000000) with
 *    REGISTRAR_UPLOAD_MAX_BYTES raised to 64 MiB: time to the 202, time to the Succeeded job, every
 *    row created, and peak memory as above.
 *
 * The npm script caps the V8 heap (192 MB) so the collector runs instead of the heap growing into
 * free memory: RSS then shows what the work keeps alive. Needs PostgreSQL (TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test; a scratch database is created and dropped); no Redis (the
 * in-process job runner).
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { TokenIssuer } from '../src/accounts/auth/token-issuer.service';
import { UsersService } from '../src/accounts/users/users.service';
import { createApp } from '../src/app.factory';
import { loadSettings } from '../src/config/load-settings';
import { JobsService } from '../src/jobs/jobs.service';
import { PROGRAM_ENROLLMENTS_READ, ResultFormat } from '../src/registrar/jobs/registrar.jobs';
import { databaseUrl, withAdminClient } from '../test/utils/test-databases';

const sizes = (name: string, fallback: string) =>
  (process.env[name] ?? fallback)
    .split(',')
    .map((n) => Math.max(1000, Number(n) || 0))
    .filter(Boolean);
const EXPORT_SIZES = sizes('BENCH_EXPORT_SIZES', '20000,100000');
const UPLOAD_SIZES =
  (process.env.BENCH_UPLOAD_SIZES ?? '100000,1000000') === '0' ? [] : sizes('BENCH_UPLOAD_SIZES', '100000,1000000');
const ROUNDS = Math.min(9, Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3) || 3));
const UPLOAD_MAX_BYTES = 64 * 1024 * 1024;
const MB = 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Peak RSS and heap above their values at the start, sampled every 10 ms until `stop()`. */
function memorySampler() {
  (global as { gc?: () => void }).gc?.();
  const before = process.memoryUsage();
  let rss = before.rss;
  let heap = before.heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return { rssMb: (rss - before.rss) / MB, heapMb: (heap - before.heapUsed) / MB, baseRssMb: before.rss / MB };
    },
  };
}

async function main(): Promise<void> {
  const dbName = `ca_test_${Date.now()}_${randomBytes(3).toString('hex')}_bench`;
  const dataDir = mkdtempSync(join(tmpdir(), 'ca-bench-registrar-'));
  const url = databaseUrl(dbName);
  await withAdminClient((c) => c.query(`CREATE DATABASE "${dbName}"`));
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  const copyClient = new Client({ connectionString: url });
  try {
    const settings = await loadSettings({
      env: {},
      envFile: '/nonexistent/.env',
      overrides: {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        DATABASE_URL: url,
        MIGRATIONS_RUN: 'true',
        DATA_DIR: dataDir,
        KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
        BOOTSTRAP_ADMIN_PASSWORD: randomBytes(24).toString('base64url'),
        REGISTRAR_UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES),
        // A request that carries a million rows takes longer to arrive than the default 30 s allows.
        HTTP_REQUEST_TIMEOUT_MS: '600000',
        JOB_CONCURRENCY: '2',
      },
    });
    app = await createApp({ settings, databaseUrl: url, logStream: createWriteStream('/dev/null') });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const ds = app.get(DataSource);
    const jobs = app.get(JobsService);
    await copyClient.connect();

    const [org] = await ds.query(`INSERT INTO organizations (key, name) VALUES ($1, 'Bench') RETURNING id`, [
      `bench-${randomUUID().slice(0, 8)}`,
    ]);
    const staff = await app.get(UsersService).insert({
      username: `bench-staff-${randomUUID().slice(0, 8)}`,
      email: `bench-${randomUUID().slice(0, 8)}@example.edu`,
      organizationId: null,
      isStaff: true,
      isSupport: false,
      isActive: true,
    });
    const { token } = await app.get(TokenIssuer).userAccessToken(staff.id, staff.username);
    const owner = { type: 'user' as const, id: staff.id };
    const newProgram = async (label: string) => {
      const [p] = await ds.query(
        `INSERT INTO programs (organization_id, key, uuid, title) VALUES ($1, $2, $3, $4) RETURNING id, key`,
        [org.id, `bench-${label}-${randomUUID().slice(0, 8)}`, randomUUID(), `Bench ${label}`],
      );
      return p as { id: string; key: string };
    };

    const waitForJob = async (id: string) => {
      for (;;) {
        const [job] = await ds.query(`SELECT state, error FROM jobs WHERE id = $1`, [id]);
        if (job.state === 'Succeeded') return;
        if (['Failed', 'Canceled'].includes(job.state)) throw new Error(`job ${id} ${job.state}: ${job.error}`);
        await sleep(10);
      }
    };

    // ─── 1 and 2: exports ─────────────────────────────────────────────────────────────────────
    const exportRows: string[] = [];
    const ratios: Record<ResultFormat, number[]> = { json: [], csv: [] };
    for (const size of EXPORT_SIZES) {
      const program = await newProgram(`export-${size}`);
      await ds.query(
        `INSERT INTO program_enrollments (program_id, student_key, status)
         SELECT $1, 'student-' || lpad(g::text, 8, '0'), (ARRAY['enrolled','pending','suspended','canceled','ended'])[1 + g % 5]
           FROM generate_series(1, $2::int) AS g`,
        [program.id, size],
      );
      await ds.query('ANALYZE program_enrollments');
      const sql = `COPY (SELECT student_key, status, user_id IS NOT NULL AS account_exists FROM program_enrollments
                          WHERE program_id = '${program.id}' ORDER BY student_key) TO STDOUT WITH (FORMAT csv, HEADER)`;
      const copy = async () => {
        const file = join(dataDir, `copy-${randomUUID()}.csv`);
        const started = process.hrtime.bigint();
        await pipeline(copyClient.query(copyTo(sql)), createWriteStream(file));
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const bytes = statSync(file).size;
        rmSync(file);
        return { rate: size / seconds, bytes };
      };
      const ours = async (format: ResultFormat) => {
        const memory = memorySampler();
        const started = process.hrtime.bigint();
        const { id } = await jobs.enqueue(
          PROGRAM_ENROLLMENTS_READ,
          { programId: program.id, organizationId: org.id, format },
          { owner, organizationId: org.id },
        );
        await waitForJob(id);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const [artifact] = await ds.query(`SELECT size FROM job_artifacts WHERE job_id = $1 AND name = $2`, [
          id,
          `result.${format}`,
        ]);
        // From the claim to the outcome: the processor alone, without the wait for a worker.
        const [{ running }] = await ds.query(
          `SELECT extract(epoch FROM finished_at - started_at)::float8 AS running FROM jobs WHERE id = $1`,
          [id],
        );
        return { rate: size / seconds, processorRate: size / running, bytes: Number(artifact.size), ...memory.stop() };
      };
      await copy(); // warm the table's pages and the connection
      for (const format of ['json', 'csv'] as const) {
        const copies: number[] = [];
        const runs: Awaited<ReturnType<typeof ours>>[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          if (r % 2 === 0) {
            copies.push((await copy()).rate);
            runs.push(await ours(format));
          } else {
            runs.push(await ours(format));
            copies.push((await copy()).rate);
          }
          ratios[format].push(runs[r].rate / copies[r]);
        }
        const rate = median(runs.map((x) => x.rate));
        const copyRate = median(copies);
        exportRows.push(
          `| ${int(size)} | ${format} | ${int(rate)} | ${int(copyRate)} | ${((rate / copyRate) * 100).toFixed(1)} % | ${int(median(runs.map((x) => x.processorRate)))} | ${(runs[0].bytes / MB).toFixed(1)} MB | ${Math.max(...runs.map((x) => x.rssMb)).toFixed(1)} MB | ${Math.max(...runs.map((x) => x.heapMb)).toFixed(1)} MB |`,
        );
      }
    }
    console.log(
      `\nEnrollment export as a job vs COPY … TO STDOUT (pg-copy-streams) of the same rows; ${ROUNDS} rounds, medians\n`,
    );
    console.log(
      '| Rows | Format | Job rows/s | COPY rows/s | Job / COPY | Processor alone, rows/s | Result file | Peak RSS − before | Peak heap − before |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const row of exportRows) console.log(row);
    for (const format of ['json', 'csv'] as const) {
      const m = median(ratios[format]);
      console.log(
        `Goal ${format}, job ≥ 30 % of COPY (median of every pair): ${m >= 0.3 ? 'met' : 'NOT met'} (${(m * 100).toFixed(1)} %, range ${(Math.min(...ratios[format]) * 100).toFixed(1)}–${(Math.max(...ratios[format]) * 100).toFixed(1)} %)`,
      );
    }

    // ─── 3: uploads ───────────────────────────────────────────────────────────────────────────
    if (UPLOAD_SIZES.length > 0) {
      console.log(
        `\nCSV enrollment upload over HTTP (streamed multipart, REGISTRAR_UPLOAD_MAX_BYTES = ${UPLOAD_MAX_BYTES / MB} MiB)\n`,
      );
      console.log(
        '| Rows | File | 202 after | Job done after | Rows/s (whole) | Enrolled | Peak RSS − before | Peak heap − before |',
      );
      console.log('|---|---|---|---|---|---|---|---|');
    }
    for (const size of UPLOAD_SIZES) {
      const program = await newProgram(`upload-${size}`);
      const memory = memorySampler();
      const started = process.hrtime.bigint();
      const { status, body, bytes } = await streamUpload(port, token, program.key, size);
      const accepted = Number(process.hrtime.bigint() - started) / 1e9;
      if (status !== 202) throw new Error(`upload answered ${status}: ${body}`);
      await waitForJob(JSON.parse(body).job_id);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const m = memory.stop();
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM program_enrollments WHERE program_id = $1`, [
        program.id,
      ]);
      if (n !== size) throw new Error(`${n} of ${size} rows enrolled`);
      console.log(
        `| ${int(size)} | ${(bytes / MB).toFixed(1)} MB | ${accepted.toFixed(1)} s | ${seconds.toFixed(1)} s | ${int(size / seconds)} | ${int(n)} | ${m.rssMb.toFixed(1)} MB | ${m.heapMb.toFixed(1)} MB |`,
      );
    }
  } finally {
    await copyClient.end().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** POSTs a `student_key,status` CSV of `rows` rows as multipart, generated while it is sent (backpressure respected). */
function streamUpload(
  port: number,
  token: string,
  programKey: string,
  rows: number,
): Promise<{ status: number; body: string; bytes: number }> {
  const boundary = `bench${randomBytes(8).toString('hex')}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/registrar/api/v1/programs/${programKey}/enrollments/upload`,
        headers: {
          authorization: `JWT ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'transfer-encoding': 'chunked',
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, bytes }));
      },
    );
    req.on('error', reject);
    let bytes = 0;
    const write = (s: string) => {
      bytes += Buffer.byteLength(s);
      return req.write(s);
    };
    write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="enrollments.csv"\r\nContent-Type: text/csv\r\n\r\nstudent_key,status\r\n`,
    );
    let i = 0;
    const pump = () => {
      while (i < rows) {
        let chunk = '';
        for (const end = Math.min(rows, i + 5000); i < end; i++) {
          chunk += `student-${String(i).padStart(8, '0')},${i % 3 === 0 ? 'pending' : 'enrolled'}\r\n`;
        }
        if (!write(chunk)) return void req.once('drain', pump);
      }
      write(`\r\n--${boundary}--\r\n`);
      req.end();
    };
    pump();
  });
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
