import { selectableFeatures } from './index.js';

export const presetNames = ['minimal', 'standard', 'full'] as const;
export type PresetName = (typeof presetNames)[number];

/** `full` is every feature that conflicts with no feature listed before it. */
function fullPreset(): string[] {
  const chosen: string[] = [];
  for (const feature of selectableFeatures) {
    const clash = chosen.some(
      (id) =>
        feature.conflicts?.includes(id) ||
        selectableFeatures.find((f) => f.id === id)?.conflicts?.includes(feature.id),
    );
    if (!clash) chosen.push(feature.id);
  }
  return chosen;
}

export function presetFeatures(name: PresetName): string[] {
  switch (name) {
    case 'minimal':
      return [];
    case 'standard':
      return ['cluster', 'redis', 'rate-limit', 'winston', 'metrics'];
    case 'full':
      return fullPreset();
  }
}
