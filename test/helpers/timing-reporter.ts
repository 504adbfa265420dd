import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints each test file's time at the end of the run, slowest first, so that a slow file shows
 * in every CI log (.ci/run must stay well under 40 minutes on a 2-core machine). A file's time is
 * what its worker spent on it: setting up, importing it, and running its hooks and tests.
 */
export default class TimingReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[]): void {
    const rows = modules
      .map((module) => {
        const d = module.diagnostic();
        const ms =
          d.environmentSetupDuration + d.prepareDuration + d.setupDuration + d.collectDuration;
        return { file: module.relativeModuleId, ms: ms + d.duration };
      })
      .sort((a, b) => b.ms - a.ms);
    if (rows.length === 0) return;
    const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`.padStart(9);
    const total = rows.reduce((sum, row) => sum + row.ms, 0);
    const lines = rows.map((row) => `${seconds(row.ms)}  ${row.file}`);
    process.stdout.write(
      `\nTime by test file (slowest first):\n${lines.join('\n')}\n${seconds(total)}  in all (summed over workers)\n`,
    );
  }
}
