import { Router } from 'express';
import type { CheckStatus, Feature } from './feature.js';

let shuttingDown = false;

/** Called on SIGTERM: /readyz answers 503 so load balancers stop sending traffic. */
export function markShuttingDown(): void {
  shuttingDown = true;
}

/** The paths healthRoutes() answers; the app routes only these to it (see app.ts). */
export const healthPaths = ['/healthz', '/readyz'];

/**
 * GET /healthz: liveness. The process is up and the event loop answers; checks nothing external,
 * so a dependency outage never makes an orchestrator restart healthy processes.
 * GET /readyz: readiness. 503 while shutting down or when a feature's check is down; a degraded
 * dependency (a cache) is reported but keeps the instance in rotation.
 */
export function healthRoutes(features: readonly Feature[]): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (shuttingDown) {
      res.status(503).json({ status: 'shutting-down' });
      return;
    }
    const checks: Record<string, CheckStatus> = {};
    for (const feature of features) {
      if (!feature.readiness) continue;
      try {
        checks[feature.name] = await feature.readiness();
      } catch {
        checks[feature.name] = 'down';
      }
    }
    const statuses = Object.values(checks);
    const status: CheckStatus = statuses.includes('down')
      ? 'down'
      : statuses.includes('degraded')
        ? 'degraded'
        : 'ok';
    res.status(status === 'down' ? 503 : 200).json({ status, checks });
  });
  return router;
}
