import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** The service as a user runs it: `tsx src/main.ts` in a child process, real sockets, real signals. */

export type ServiceProcess = {
  child: ChildProcess;
  origin: string;
  /** Everything printed so far, stdout and stderr. */
  output: () => string;
  /** Resolves once the output contains `text`; rejects if the process exits first. */
  until: (text: string) => Promise<void>;
};

/** Starts the service on a free port with only `env` (and PATH, HOME) set; resolves once it listens. */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A test that fails half-way must not leave the service running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const until = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!output.includes(text)) return;
        child.stdout?.off('data', check);
        resolve();
      };
      child.stdout?.on('data', check);
      child.once('exit', (code) => reject(new Error(`service exited with ${code} before printing "${text}":\n${output}`)));
      check();
    });
  await until('listening on http');
  const origin = /listening on (http:\/\/[^\s"]+)/.exec(output)?.[1] as string;
  return { child, origin, output: () => output, until };
}

/** The exit code of a child process, once it has exited. */
export async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}
