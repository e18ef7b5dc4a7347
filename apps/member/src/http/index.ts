export {
  createHttpHandler,
  ETCD_SERVER_VERSION,
  ETCD_CLUSTER_VERSION,
  type MemberHealthSource,
  type HttpHandlerOptions,
  type Http1RequestHandler,
} from './handler';
export { listenMetricsUrls } from './metrics-listener';
