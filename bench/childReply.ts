// Waiting for one reply from a forked bench process (a server or a client) over IPC.
import type { ChildProcess } from 'node:child_process';

/** Any reply a bench child sends; `failed` carries the child's error message. */
export interface Reply {
  readonly type: string;
}

/**
 * Resolves with the first message `pick` accepts; rejects if the child reports `failed`, exits, or
 * `timeoutMs` passes first, naming `what` in the error.
 */
export function waitForReply<M extends Reply, T>(child: ChildProcess, pick: (message: M) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: M): void => {
      if (message.type === 'failed') {
        cleanup();
        reject(new Error(`${what}: ${(message as Reply & { message?: string }).message ?? 'failed'}`));
        return;
      }
      const picked = pick(message);
      if (picked === undefined) return;
      cleanup();
      resolve(picked);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`${what}: the process exited (${code})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}
