/**
 * etcd's JSON gateway (grpc-gateway paths under /v3/ and /v3beta/) over the gRPC handler objects.
 *
 * Wiring in the member (done in server/member.ts): the (definition, handlers) pairs given to
 * grpc.addService, then
 *   const gateway = createJsonGateway(services, { requestBytesMax, logger });
 *   createHttpHandler({ ..., fallback: (req, res) => { if (!gateway(req, res)) notFound(res); } })
 */
export { createJsonGateway, type GatewayService, type JsonGatewayHandler, type JsonGatewayOptions } from './gateway';
export { gatewayRoutes, API_PREFIXES } from './routes';
