import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { SETTINGS_SCHEMA } from '../../src/config/settings.schema';

export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Settles when the process has exited. */
  exited: Promise<ServerExit>;
  /** Resolves with the first match of `pattern` in stdout; rejects on exit or after `timeoutMs`. */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** The exit, or a rejection after `timeoutMs` (the process is then left running for the caller to kill). */
  waitForExit(timeoutMs: number): Promise<ServerExit>;
}

const running = new Set<ServerProcess>();

/**
 * The environment a server starts with: this process's, minus every Campus Access setting (so the
 * machine running the tests cannot change their outcome), plus `env`. The .env file is never read.
 */
export function serverEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key in SETTINGS_SCHEMA || key.startsWith('EXTERNAL_SETTING_') || key === 'ENV_FILE') continue;
    base[key] = value;
  }
  return { ...base, ENV_FILE: '/nonexistent/campus-access.env', NODE_ENV: 'test', ...env };
}

/** Starts `src/main.ts` as a child process, exactly as a developer would from a checkout. */
export function startServer(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: serverEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<ServerExit>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });

  const server: ServerProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStdout(pattern, timeoutMs) {
      return new Promise((resolveMatch, reject) => {
        let settled = false;
        const finish = (e?: Error, match?: RegExpMatchArray) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          child.stdout!.off('data', check);
          if (e) reject(e);
          else resolveMatch(match!);
        };
        const check = () => {
          const match = pattern.exec(out);
          if (match) finish(undefined, match);
        };
        const timer = setTimeout(
          () => finish(new Error(`no ${pattern} in stdout after ${timeoutMs} ms\n${tail(out, err)}`)),
          timeoutMs,
        );
        child.stdout!.on('data', check);
        void exited.then(({ code, signal }) => {
          check();
          finish(
            new Error(`server exited (code ${code}, signal ${signal}) before ${pattern} appeared\n${tail(out, err)}`),
          );
        });
        check();
      });
    },
    waitForExit(timeoutMs) {
      return new Promise((resolveExit, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`server still running after ${timeoutMs} ms\n${tail(out, err)}`)),
          timeoutMs,
        );
        void exited.then((result) => {
          clearTimeout(timer);
          resolveExit(result);
        });
      });
    },
  };
  running.add(server);
  void exited.then(() => running.delete(server));
  return server;
}

function tail(out: string, err: string): string {
  return `--- stdout (end) ---\n${out.slice(-2000)}\n--- stderr (end) ---\n${err.slice(-2000)}`;
}

/** Ends every server this file started that is still running: SIGINT first, SIGKILL after `graceMs`. */
export async function stopAllServers(graceMs = 10_000): Promise<void> {
  await Promise.all(
    [...running].map(async (server) => {
      server.child.kill('SIGINT');
      const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
      await server.exited;
      clearTimeout(timer);
    }),
  );
}

/** Process ids of PostgreSQL servers whose data directory is `clusterDir`. */
export function postgresPids(clusterDir: string): number[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .filter(([, , args]) => /(^|\/)postgres\s/.test(args) && args.split(/\s+/).includes(clusterDir))
    .map(([, pid]) => Number(pid));
}

/** Kills PostgreSQL servers left running on `clusterDir` (only ever one the tests started there). */
export function killPostgres(clusterDir: string): void {
  for (const pid of postgresPids(clusterDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
