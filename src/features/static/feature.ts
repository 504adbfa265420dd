import type { Feature } from '../types.js';

export const staticAssets: Feature = {
  id: 'static',
  title: 'CDN-ready static assets',
  description:
    'public/ with immutable caching for fingerprinted files, no-cache HTML, ASSET_BASE_URL for a CDN.',
  appModule: true,
  env: () => [
    {
      name: 'ASSET_BASE_URL',
      example: '',
      comment:
        'Where browsers fetch /public assets from, such as https://cdn.example.com. Empty: this server.',
    },
  ],
};
