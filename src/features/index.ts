/**
 * The registry of features, in the order they are listed, prompted, rendered and installed.
 * Add a feature: create `src/features/<id>/feature.ts` (+ `templates/`), then list it here.
 */
import type { Feature } from './types.js';
import { base } from './base/feature.js';

export const allFeatures: readonly Feature[] = [base];

/** Features a user can choose (everything but the always-on base app). */
export const selectableFeatures: readonly Feature[] = allFeatures.filter((f) => !f.hidden);

const byId = new Map(allFeatures.map((f) => [f.id, f]));

export function getFeature(id: string): Feature | undefined {
  return byId.get(id);
}
