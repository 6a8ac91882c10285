// The simulated Azure's public surface: the server and its snapshot, the tenant generator, the KQL evaluator and the
// Kusto language service it is built on, and a local Azurite. Test and demo equipment only: nothing here ships in
// the Functions package.
export { startSimulator, type SimulatedAzure, type SimulatorOptions } from "./server.js";
export { armError, type Route, type RouteContext, type RouteRequest, type RouteResponse, type SimulatorStats } from "./routes.js";
export { EMAIL_DELIVERY_STATUSES, loadSnapshot, parseSnapshot, snapshotSchema, SnapshotError, type EmailDeliveryStatus, type SnapshotFault, type SnapshotPrincipal, type SnapshotResource, type TenantSnapshot } from "./snapshot.js";
export { expectedUsage, generateTenant, type TenantShape } from "./tenantGenerator.js";
export { LatencyModel, ServerErrorInjector, type LatencyOptions, type ServerErrorOptions } from "./transientFaults.js";
export { mulberry32 } from "./seededRandom.js";
export { ARM_READS_DEFAULT, type ArmThrottleOptions } from "./armThrottle.js";
export type { BatchApiOptions } from "./batchApi.js";
export type { ResourceGraphOptions } from "./resourceGraphApi.js";
export type { GraphOptions } from "./graphApi.js";
export { DEFAULT_GRAPH_PERMISSIONS } from "./graphApi.js";
export type { DeliveryReportEvent, EmailOperationRecord, EmailOperationStatus, EmailServiceOptions, EmailServiceStats, SimulatedEmail } from "./emailApi.js";
export * from "./kql/index.js";
export { kustoLanguage, toArray, type KustoLanguage } from "./kql/kustoLanguage.js";
export { startAzurite, type LocalStorage } from "./azurite.js";
