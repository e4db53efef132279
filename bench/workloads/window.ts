// The measuring window every timed workload shares: run, warm up, count during a fixed window, stop.

export interface WindowSettings {
  readonly warmupMs: number;
  readonly windowMs: number;
}

/**
 * Calls `snapshot()` when the warm-up ends and again when the window closes; resolves with the
 * seconds between them. The workload keeps its loops running until `stop` resolves.
 */
export function measureWindow(settings: WindowSettings, snapshot: (phase: 'start' | 'end') => void): Promise<number> {
  return new Promise((resolve) => {
    setTimeout(() => {
      snapshot('start');
      const started = process.hrtime.bigint();
      setTimeout(() => {
        snapshot('end');
        resolve(Number(process.hrtime.bigint() - started) / 1e9);
      }, settings.windowMs);
    }, settings.warmupMs);
  });
}

/** Rejects after `ms`, so a workload whose peer stalls cannot hang the run. */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
