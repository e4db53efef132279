// The measuring window every timed workload shares: run, warm up, count during a fixed window, stop.

export interface WindowSettings {
  readonly warmupMs: number;
  readonly windowMs: number;
}

/**
 * Reads `count()` when the warm-up ends and again when the window closes and resolves with the
 * increase per second. `onPhase` is told when the window opens and closes. The workload keeps its
 * loops running until this resolves.
 */
export function measureWindow(settings: WindowSettings, count: () => number, onPhase?: (phase: 'start' | 'end') => void): Promise<number> {
  return new Promise((resolve) => {
    setTimeout(() => {
      onPhase?.('start');
      const startCount = count();
      const started = process.hrtime.bigint();
      setTimeout(() => {
        onPhase?.('end');
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        resolve((count() - startCount) / seconds);
      }, settings.windowMs);
    }, settings.warmupMs);
  });
}
