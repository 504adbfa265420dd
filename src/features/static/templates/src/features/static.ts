import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler, type Response } from 'express';
import { assetBaseUrl, isFingerprinted, useAssetBaseUrl } from '../assets.js';
import type { Feature } from '../feature.js';
import { documentHeaders } from '../security-headers.js';

/** public/ at the project root, from src/features (tsx, tests) and dist/features (node) alike. */
export const publicDir = fileURLToPath(new URL('../../public', import.meta.url));

export const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Fingerprinted files never change under their name: browsers and CDNs keep them a year without
 * asking again. Everything else (HTML first) is revalidated on every use, cheaply with its ETag.
 * Pages get the security headers of an HTML document.
 */
function setCacheHeaders(res: Response, path: string): void {
  if (isFingerprinted(path)) {
    res.setHeader('Cache-Control', IMMUTABLE);
  } else {
    res.setHeader('Cache-Control', 'no-cache');
  }
  if (path.endsWith('.html')) {
    // A page: helmet's full set for documents instead of the API set (src/security-headers.ts).
    documentHeaders(res);
  } else {
    // A page on another origin (the CDN's) may load these files; helmet's default same-origin
    // policy would make browsers refuse them.
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  }
}

/** URL paths of the files under public/ (dotfiles excluded, as express.static does). */
function listPublicFiles(dir: string): Set<string> {
  const paths = new Set<string>();
  if (!existsSync(dir)) return paths;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const rel = relative(dir, join(entry.parentPath, entry.name)).split(sep);
    if (rel.some((part) => part.startsWith('.'))) continue;
    const url = `/${rel.join('/')}`;
    paths.add(url);
    if (url.endsWith('/index.html')) paths.add(url.slice(0, -'index.html'.length));
  }
  return paths;
}

function decoded(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * Serves public/. In production the list of files is read once at start-up, so requests for
 * anything else (your API) skip the file-system lookup express.static would make; in development
 * every request looks, so new files show up without a restart.
 */
export function staticFiles(dir: string, checkEveryRequest: boolean): RequestHandler {
  const serve = express.static(dir, {
    cacheControl: false,
    setHeaders: setCacheHeaders,
    // express.static ignores dotfiles by default in Express 5; say so explicitly.
    dotfiles: 'ignore',
    index: 'index.html',
    redirect: false,
  });
  if (checkEveryRequest) return serve;
  const files = listPublicFiles(dir);
  return (req, res, next) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && files.has(decoded(req.path))) {
      serve(req, res, next);
      return;
    }
    next();
  };
}

export interface StaticSettings {
  /** ASSET_BASE_URL without its trailing slash; '' serves assets from this server. */
  assetBaseUrl: string;
}

const feature: Feature<StaticSettings> = {
  name: 'static',
  readSettings: (env) => ({ assetBaseUrl: assetBaseUrl(env) }),
  setup(app, ctx, settings) {
    const base = settings.assetBaseUrl;
    useAssetBaseUrl(base);
    app.use(staticFiles(publicDir, ctx.config.nodeEnv === 'development'));
    ctx.logger.debug('serving public/', { dir: publicDir, assetBaseUrl: base || undefined });
  },
};

export default feature;
