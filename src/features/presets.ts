import { UsageError } from '../errors.js';
import { firstOfEachConflict } from './resolve.js';

export const presetNames = ['minimal', 'standard', 'full'] as const;
export type PresetName = (typeof presetNames)[number];

/** Preset names are case-insensitive, like feature ids. */
export function parsePreset(value: string): PresetName {
  const name = value.trim().toLowerCase();
  if (!(presetNames as readonly string[]).includes(name)) {
    throw new UsageError(`Unknown preset "${value}". Valid presets: ${presetNames.join(', ')}.`);
  }
  return name as PresetName;
}

export function presetFeatures(name: PresetName): string[] {
  switch (name) {
    case 'minimal':
      return [];
    case 'standard':
      return ['cluster', 'redis', 'rate-limit', 'winston', 'metrics'];
    case 'full':
      // Every feature that conflicts with no feature listed before it in the registry.
      return firstOfEachConflict();
  }
}
