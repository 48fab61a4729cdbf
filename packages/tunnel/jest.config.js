import preset from '../../jest.preset.js';

/** @type {import('jest').Config} */
export default {
  ...preset,
  displayName: '@interlink-k8s/tunnel',
  // The integration tests run real SSH peers; a reconnect test alone takes several seconds.
  testTimeout: 30_000,
};
