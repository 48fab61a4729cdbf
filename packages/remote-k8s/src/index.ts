// The interface the server consumes
export type { OffloadProvider, ProviderEvents, ReadinessCheck } from './provider.js';
