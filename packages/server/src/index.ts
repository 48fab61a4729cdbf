// The express app
export { createApp, DEFAULT_BODY_LIMIT_BYTES } from './app.js';
export type { AppOptions } from './app.js';

// Running it
export { startServer } from './server.js';
export type { RunningServer, StartServerOptions } from './server.js';
export { describeAddress, listen, shutdownOnSignals } from './listen.js';
export type { Listener, ListenOptions, ShutdownOnSignalsOptions, SignalSource } from './listen.js';

// Configuration
export { describeSource, loadConfig } from './config/load.js';
export type {
  ConfigSource,
  ListenAddress,
  MeshSettings,
  ServerConfig,
  TcpTunnelSettings,
} from './config/load.js';
export { CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE, configKeys, ignoredReferenceKeys } from './config/keys.js';
export type { ConfigKey, ConfigKeyName, ConfigValues, LogLevel } from './config/keys.js';
export { CONFIG_TABLE_MARKERS, extractConfigTable, renderConfigTable, replaceConfigTable } from './config/docs.js';
export { IniSyntaxError, parseIni } from './config/ini.js';
export type { IniDocument } from './config/ini.js';

// Logging, metrics, provider events
export { createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { createMetrics } from './metrics.js';
export type { Metrics, MetricsOptions, RequestLabels } from './metrics.js';
export { providerEvents } from './events.js';

// HTTP details shared with tests and embedders
export { REQUEST_ID_HEADER, SESSION_HEADER } from './http/context.js';
export { INTERNAL_ERROR_MESSAGE, toHttpError } from './http/errors.js';
export type { HttpError } from './http/errors.js';
export { redactSecrets } from './http/redact.js';
export { buildApiDocument } from './http/api-doc.js';
export { renderDocsPage } from './http/docs-page.js';
