import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Security headers, in two sets (both helmet's, worked out once at start):
 * - every response gets the API set (OWASP's REST Security Cheat Sheet): nothing may frame it,
 *   load anything into it or sniff its type, HTTPS is remembered, no referrer is sent. Helmet's
 *   other defaults are about HTML documents (which scripts, styles and fonts a page may load,
 *   window isolation, old IE and Flash); on a JSON response they are ~650 bytes of headers that
 *   protect nothing, about a twentieth of a small request's CPU.
 * - an HTML page gets helmet's full default set on top: `res` passed to documentHeaders() (the
 *   static feature does it for public/*.html). Serving HTML from your own routes? Call it there
 *   too, or a page gets the API policy, which lets it load nothing (`default-src 'none'`).
 */
export const API_HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  xFrameOptions: { action: 'deny' },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/** The headers helmet would set with `options`, found by running it once against a recorder. */
function headersOf(options?: Readonly<HelmetOptions>): (res: ServerResponse) => void {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string) => headers.push([name, value]),
    // X-Powered-By: the app never sends it (createApp disables it).
    removeHeader: () => undefined,
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return (res) => {
    for (const [name, value] of headers) res.setHeader(name, value);
  };
}

/** Sets the API set on `res`: createApp calls it for every request, before anything else. */
export const apiHeaders = headersOf(API_HELMET_OPTIONS);

/** Sets helmet's default set, for an HTML page; it replaces the API set's CSP and framing. */
export const documentHeaders = headersOf();
