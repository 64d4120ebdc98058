import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';

/**
 * A private MariaDB server in a temporary data directory, for tests that take the database away
 * and bring it back: a real outage (refused connections, dropped sessions), not a mock. It listens
 * on 127.0.0.1 at a free port, root without a password, and keeps its port and data across
 * stop()/start(). It is killed when the test process exits, whatever happens to the test.
 */

export type ThrowawayMariadb = {
  /** `mysql://root@127.0.0.1:<port>/`; append a database name. */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server: a clean shutdown (SIGTERM), or with `kill` a crash (SIGKILL). */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Starts it again on the same data and port; resolves once it accepts connections. */
  start(): Promise<void>;
  /**
   * Freezes the server (SIGSTOP): connections stay open and the port accepts, but nothing answers,
   * as with a hung server or a network that drops packets. `thaw()` lets it go on (SIGCONT).
   */
  freeze(): void;
  thaw(): void;
  /** Stops it and deletes its files. */
  destroy(): Promise<void>;
};

const serverCandidates = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/bin/mariadbd', '/usr/local/bin/mariadbd'];
const installCandidates = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db', '/usr/local/bin/mariadb-install-db'];

const serverBinary = serverCandidates.find((path) => existsSync(path));
const installBinary = installCandidates.find((path) => existsSync(path));

/** Whether this machine has the MariaDB server binaries the helper needs. */
export const throwawayMariadbAvailable = serverBinary !== undefined && installBinary !== undefined;

// Small buffers and logs: the server holds a few test databases and starts in about a second.
const serverOptions = ['--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M', '--skip-log-bin', '--max-connections=200'];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startThrowawayMariadb(): Promise<ThrowawayMariadb> {
  if (!serverBinary || !installBinary) throw new Error(`No MariaDB server binaries (looked for ${serverCandidates.join(', ')} and ${installCandidates.join(', ')}).`);
  const directory = mkdtempSync(join(tmpdir(), 'throwaway-mariadb-'));
  const dataDir = join(directory, 'data');
  const errorLog = join(directory, 'error.log');
  await promisify(execFile)(installBinary, [
    '--no-defaults',
    `--datadir=${dataDir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--user=root',
    ...serverOptions,
  ]);
  const port = await freePort();
  const url = `mysql://root@127.0.0.1:${port}/`;
  let child: ChildProcess | null = null;

  const errorLogTail = () => (existsSync(errorLog) ? readFileSync(errorLog, 'utf8').split('\n').slice(-15).join('\n') : '(no error log)');

  async function start(): Promise<void> {
    if (child) return;
    const server = spawn(
      serverBinary as string,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        `--socket=${join(directory, 'mysqld.sock')}`,
        `--pid-file=${join(directory, 'mysqld.pid')}`,
        `--log-error=${errorLog}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        '--user=root',
        ...serverOptions,
      ],
      { stdio: 'ignore' },
    );
    child = server;
    running.add(server);
    let exited = false;
    server.once('exit', () => {
      exited = true;
      running.delete(server);
      if (child === server) child = null;
    });
    // Ready once it accepts a connection; a server that exits instead says why in its error log.
    for (let attempt = 0; ; attempt++) {
      if (exited) throw new Error(`MariaDB exited while starting:\n${errorLogTail()}`);
      try {
        const connection = await mysql.createConnection({ uri: url, connectTimeout: 1000 });
        await connection.end();
        return;
      } catch (error) {
        if (attempt > 600) throw new Error(`MariaDB did not accept connections on port ${port}: ${(error as Error).message}\n${errorLogTail()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async function stop(options: { kill?: boolean } = {}): Promise<void> {
    const server = child;
    if (!server) return;
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    server.kill(options.kill ? 'SIGKILL' : 'SIGTERM');
    await exited;
  }

  const signal = (name: NodeJS.Signals) => {
    if (!child) throw new Error('The throwaway MariaDB server is not running.');
    child.kill(name);
  };

  try {
    await start();
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    dataDir,
    start,
    stop,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    async destroy() {
      await stop({ kill: true });
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
