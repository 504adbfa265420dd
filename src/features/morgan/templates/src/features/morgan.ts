import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import morgan from 'morgan';
import { readEnum } from '../config.js';
import type { Feature } from '../feature.js';
import { redactUrl } from '../logger.js';

export const MORGAN_FORMATS = ['combined', 'common'] as const;
export type MorganFormat = (typeof MORGAN_FORMATS)[number];

export interface MorganSettings {
  format: MorganFormat;
}

/**
 * The Apache formats with three of morgan's tokens replaced by the app's own: the client address
 * is Express's `req.ip` (from X-Forwarded-For only as far as TRUST_PROXY trusts the proxies in
 * front, else the peer's address), the URL has its secret query values replaced, and the request
 * id closes the line.
 */
const common =
  ':client-ip - :remote-user [:date[clf]] ":method :safe-url HTTP/:http-version" :status :res[content-length]';
export const FORMATS: Record<MorganFormat, string> = {
  common: `${common} :request-id`,
  combined: `${common} ":referrer" ":user-agent" :request-id`,
};

type Req = IncomingMessage & Partial<Pick<Request, 'ip' | 'originalUrl'>>;
type Res = ServerResponse & Partial<Pick<Response, 'locals'>>;

morgan.token<Req, Res>('client-ip', (req) => req.ip ?? req.socket.remoteAddress);
morgan.token<Req, Res>('safe-url', (req) => redactUrl(req.originalUrl ?? req.url ?? '/'));
morgan.token<Req, Res>(
  'request-id',
  (_req, res) => (res.locals?.requestId as string | undefined) ?? '-',
);

/** One access log line per finished request, on stdout (or the stream a test gives). */
export function accessLog(
  settings: MorganSettings,
  stream: NodeJS.WritableStream = process.stdout,
) {
  return morgan<Req, Res>(FORMATS[settings.format], { stream });
}

const feature: Feature<MorganSettings> = {
  name: 'morgan',
  readSettings: (env) => ({
    format: readEnum(env, 'MORGAN_FORMAT', MORGAN_FORMATS, 'combined'),
  }),
  setup(app, _ctx, settings) {
    app.use(accessLog(settings));
  },
};

export default feature;
