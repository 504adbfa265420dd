import type { Logger } from '../../logger.js';
import type { DatabaseServer } from './server.js';
import { LAG_CHECK_INTERVAL_MS } from './settings.js';

/**
 * How far behind the primary a replica is, in ms: 0 when it has replayed all it received (an idle
 * primary sends nothing, so the last replay time alone would look like growing lag), null when
 * it has never replayed a transaction yet is behind.
 */
const LAG_QUERY = `select case
  when not pg_is_in_recovery() or pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0
  else extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000
end as lag_ms`;

/** One replica and whether it is in the read rotation. */
export class Replica {
  /** Milliseconds behind at the last check; Infinity when unknown or unreachable. */
  lagMs = Infinity;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    readonly server: DatabaseServer,
    private readonly maxLagMs: number,
    private readonly logger: Logger,
  ) {}

  /** Reachable and not too far behind: reads may go here. */
  get healthy(): boolean {
    return this.server.breaker.state === 'closed' && this.lagMs <= this.maxLagMs;
  }

  /** Checks the lag now, then every LAG_CHECK_INTERVAL_MS until stop(). */
  start(): Promise<void> {
    return this.#check();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #check(): Promise<void> {
    const wasHealthy = this.healthy;
    try {
      const result = await this.server.run(() =>
        this.server.pool.query<{ lag_ms: string | number | null }>(LAG_QUERY),
      );
      const raw = result.rows[0]?.lag_ms;
      this.lagMs = raw === null || raw === undefined ? Infinity : Number(raw);
    } catch {
      this.lagMs = Infinity;
    }
    if (wasHealthy !== this.healthy) {
      const lagMs = Number.isFinite(this.lagMs) ? Math.round(this.lagMs) : 'unknown';
      if (this.healthy) this.logger.info('database replica back in the read rotation', { lagMs });
      else this.logger.warn('database replica out of the read rotation', { lagMs });
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#check(), LAG_CHECK_INTERVAL_MS);
    this.#timer.unref();
  }
}
