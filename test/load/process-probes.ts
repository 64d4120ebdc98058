import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * What a running process holds, read from /proc (Linux): resident memory, child processes, and
 * its sockets with the address each one is connected to. Used by the soak harness to find leaks
 * in the service process from the outside, without any help from the service.
 */

/** Resident memory in MiB (VmRSS), or null once the process is gone. */
export function residentMiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return null;
  }
}

export type ChildProcessInfo = { pid: number; command: string };

/** The live (not zombie) children of `pid`, with their command names. */
export function childrenOf(pid: number): ChildProcessInfo[] {
  const children: ChildProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while the folder was read
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    const command = stat.slice(stat.indexOf('(') + 1, close);
    const [state, parent] = stat.slice(close + 2).split(' ');
    if (Number(parent) === pid && state !== 'Z') children.push({ pid: Number(entry), command });
  }
  return children;
}

/** Children that are ffmpeg or ffprobe (the only programs the service starts). */
export function mediaChildrenOf(pid: number): ChildProcessInfo[] {
  return childrenOf(pid).filter((child) => /ff(mpeg|probe)/.test(child.command));
}

export type SocketInfo =
  | { kind: 'tcp'; state: string; localPort: number; remotePort: number }
  /** A unix socket, or a TCP socket that has not been bound yet. */
  | { kind: 'other' };

const tcpStates: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

function tcpTable(pid: number): Map<string, { state: string; localPort: number; remotePort: number }> {
  const table = new Map<string, { state: string; localPort: number; remotePort: number }>();
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const port = (address: string | undefined) => parseInt(address?.split(':')[1] ?? '0', 16);
      table.set(fields[9] as string, { state: tcpStates[fields[3] as string] ?? (fields[3] as string), localPort: port(fields[1]), remotePort: port(fields[2]) });
    }
  }
  return table;
}

/** Every socket among the open file descriptors of `pid`. */
export function socketsOf(pid: number): SocketInfo[] {
  const inodes: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed while the folder was read
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.push(inode);
  }
  const tcp = tcpTable(pid);
  return inodes.map((inode) => {
    const entry = tcp.get(inode);
    return entry ? { kind: 'tcp', ...entry } : { kind: 'other' };
  });
}
