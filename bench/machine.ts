// What the figures were measured on: they mean little without the machine and the runtime.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  readonly openFilesLimit: string;
}

export function describeMachine(): MachineInfo {
  return {
    cpus: os.availableParallelism(),
    cpuModel: cpuModel(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    openFilesLimit: openFilesLimit(),
  };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function openFilesLimits(): { soft: string; hard: string } | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('Max open files'));
    const [soft, hard] = line?.replace('Max open files', '').trim().split(/\s+/) ?? [];
    if (soft && hard) return { soft, hard };
  } catch {
    // not Linux
  }
  return undefined;
}

function openFilesLimit(): string {
  const limits = openFilesLimits();
  return limits ? `${limits.soft} (hard ${limits.hard})` : 'unknown';
}

/** How many descriptors this process may open (the soft limit), if the platform says. */
export function openFilesSoftLimit(): number | undefined {
  const soft = openFilesLimits()?.soft;
  if (soft === undefined) return undefined;
  return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
}

/** Sockets in TIME_WAIT on this host (Linux), to show the accept workload leaves none behind. */
export function countTimeWait(): number | undefined {
  let count = 0;
  try {
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      const lines = readFileSync(table, 'utf8').split('\n').slice(1);
      // Column 4 ("st") is the state in hex; 06 is TIME_WAIT.
      for (const line of lines) if (line.trim().split(/\s+/)[3] === '06') count++;
    }
  } catch {
    return undefined;
  }
  return count;
}
