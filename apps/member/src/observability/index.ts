export { createLogger, silentLogger, pinoLevel, type Logger, type LoggerOptions } from './logger';
export { createMetrics, grpcOutcomeRecorder, GRPC_CODE_NAMES, type MemberMetrics, type MetricsOptions } from './metrics';
