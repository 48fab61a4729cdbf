import base from '../eslint.config.js';

/** The e2e package holds programs (demo, benchmarks) that talk to a terminal. */
export default [...base, { files: ['**/*.ts'], rules: { 'no-console': 'off' } }];
