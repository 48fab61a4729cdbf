import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports no package may make: another workspace package's subpath (each
 * exports only its root, so its inside can change without breaking the others).
 * Exported so that a package adding its own patterns keeps these.
 * @type {{ group: string[]; message: string }[]}
 */
export const workspaceImportPatterns = [
  {
    group: ['@interlink-k8s/*/*', '!@interlink-k8s/*/package.json'],
    message: 'Import a workspace package by its root (@interlink-k8s/<name>); it exports only ".".',
  },
];

/** Type-checked rules as errors for every package; libraries may not use console. */
export default tseslint.config(
  { ignores: ['**/dist/**', '**/out-tsc/**', '**/node_modules/**', '**/coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      'no-restricted-imports': ['error', { patterns: workspaceImportPatterns }],
    },
  },
  {
    files: ['**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
);
