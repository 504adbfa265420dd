import { readUrl } from './config.js';

/**
 * ASSET_BASE_URL without its trailing slash ('' when unset: assets come from this server). A value
 * that is not a URL stops start-up (the static feature reads it with the other settings).
 */
export function assetBaseUrl(env: Record<string, string | undefined>): string {
  return (readUrl(env, 'ASSET_BASE_URL') ?? '').replace(/\/+$/, '');
}

let configuredBase = '';

/** Called once by the static feature's setup with the validated ASSET_BASE_URL. */
export function useAssetBaseUrl(base: string): void {
  configuredBase = base;
}

/**
 * The URL browsers should fetch a public/ file from: `assetUrl('/assets/app.3f9a1c2b.css')` is
 * that path on this server, or on the CDN when ASSET_BASE_URL is set (for example
 * https://cdn.example.com/assets/app.3f9a1c2b.css, with this server as the CDN's origin).
 */
export function assetUrl(path: string, base: string = configuredBase): string {
  return `${base}${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * A content hash right before the extension, after `.` or `-`: 8+ hex digits (`app.3f9a1c2b.js`),
 * or the 8-character hashes of Vite/Rollup and esbuild (`index-BwK3f2aQ.js`, `app-2QF3BUMO.css`:
 * at least one digit and one capital, so that `item-list2025.js` is not taken for one).
 */
const FINGERPRINTED =
  /[.-](?:[0-9a-fA-F]{8,64}|(?=[\w-]{0,7}\d)(?=[\w-]{0,7}[A-Z])[\w-]{8})\.[A-Za-z0-9]+$/;

export function isFingerprinted(path: string): boolean {
  return FINGERPRINTED.test(path);
}
