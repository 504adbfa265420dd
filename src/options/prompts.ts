import { selectableFeatures } from '../features/index.js';
import { resolveFeatures } from '../features/resolve.js';
import type { PackageManager } from '../features/types.js';
import { packageManagers } from '../pm.js';
import { validateProjectName } from './create.js';

/** The questions `create` asks a person at a terminal (never asked in non-interactive mode). */
export interface Prompts {
  directory(): Promise<string>;
  confirmNonEmpty(directory: string): Promise<boolean>;
  features(): Promise<string[]>;
  packageManager(detected: PackageManager): Promise<PackageManager>;
  install(): Promise<boolean>;
  git(): Promise<boolean>;
}

export async function loadPrompts(): Promise<Prompts> {
  const { input, checkbox, select, confirm } = await import('@inquirer/prompts');
  return {
    directory: () =>
      input({
        message: 'Project directory:',
        default: 'my-service',
        validate: (value) => {
          try {
            validateProjectName(value.trim().split(/[\\/]/).filter(Boolean).at(-1) ?? value);
            return true;
          } catch (error) {
            return (error as Error).message;
          }
        },
      }),
    confirmNonEmpty: (directory) =>
      confirm({
        message: `${directory} is not empty. Write into it anyway? (your files are kept)`,
        default: false,
      }),
    features: () =>
      checkbox({
        message: 'Scaling features (space to toggle, enter to confirm):',
        choices: selectableFeatures.map((f) => ({
          name: f.conflicts?.length ? `${f.title} (or ${f.conflicts.join(', ')})` : f.title,
          value: f.id,
          short: f.id,
          description: f.description,
        })),
        pageSize: 16,
        // Conflicting choices are explained on the spot instead of failing after the prompt.
        validate: (choices) => {
          try {
            resolveFeatures(choices.map((c) => c.value));
            return true;
          } catch (error) {
            return (error as Error).message;
          }
        },
      }),
    packageManager: (detected) =>
      select({
        message: 'Package manager:',
        choices: packageManagers.map((pm) => ({ name: pm, value: pm })),
        default: detected,
      }),
    install: () =>
      confirm({
        message: 'Install dependencies and verify the project (build, lint, test, boot)?',
        default: true,
      }),
    git: () => confirm({ message: 'Initialize a git repository?', default: true }),
  };
}
