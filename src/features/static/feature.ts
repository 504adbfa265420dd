import type { Feature } from '../types.js';

export const staticAssets: Feature = {
  id: 'static',
  title: 'CDN-ready static assets',
  description:
    'public/ with immutable caching for fingerprinted files, no-cache HTML, ASSET_BASE_URL for a CDN.',
};
