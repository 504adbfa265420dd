import { readUrl } from './config.js';

/**
 * ASSET_BASE_URL without its trailing slash ('' when unset: assets come from this server). A value
 * that is not a URL stops start-up (the static feature reads it during setup).
 */
export function assetBaseUrl(env: Record<string, string | undefined> = process.env): string {
  return (readUrl(env, 'ASSET_BASE_URL') ?? '').replace(/\/+$/, '');
}

let cachedBase: string | undefined;

/**
 * The URL browsers should fetch a public/ file from: `assetUrl('/assets/app.3f9a1c2b.css')` is
 * that path on this server, or on the CDN when ASSET_BASE_URL is set (for example
 * https://cdn.example.com/assets/app.3f9a1c2b.css, with this server as the CDN's origin).
 */
export function assetUrl(path: string, base: string = (cachedBase ??= assetBaseUrl())): string {
  return `${base}${path.startsWith('/') ? path : `/${path}`}`;
}

/** `app.3f9a1c2b.js`, `app-3f9a1c2b.css`: a content hash of 8+ hex digits before the extension. */
const FINGERPRINTED = /[.-][0-9a-f]{8,64}\.[a-z0-9]+$/i;

export function isFingerprinted(path: string): boolean {
  return FINGERPRINTED.test(path);
}
