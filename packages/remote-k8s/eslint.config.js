import base, { workspaceImportPatterns } from '../../eslint.config.js';

export default [
  ...base,
  {
    // Translation decides what remote objects look like and stays pure: it
    // may not reach into the reconciler, which talks to the API server.
    files: ['src/translate/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...workspaceImportPatterns,
            { group: ['**/reconcile', '**/reconcile/**'], message: 'translate/ is pure: it may not import reconcile/ (shared helpers live in shared/).' },
          ],
        },
      ],
    },
  },
];
