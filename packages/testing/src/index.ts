export { createTestApp, TEST_SECRET_KEY, type TestApp, type TestAppOptions } from './test-app.js';
export { TestClient, type TestResponse, type RequestOptions } from './client.js';
export { isolatedDatabase, testDatabaseKind, writePgliteSnapshot, DEFAULT_TEST_DATABASE_URL, type TestDatabaseKind, type IsolatedDatabase } from './database.js';
// The schema rule of a cluster sharded by tenant, for a plugin's own tests (docs/plugin-guide.md).
export { schemaRuleViolations, globalTablesOf, type SchemaRuleViolation } from '@rapport/core';
export { singleShardViolations, type SingleShardViolation } from './single-shard.js';
export { captureListQuery, explainQuery, listPlan, listPlanProblems, planNodes, describePlan, type CapturedQuery, type PlanNode } from './plans.js';
export {
  routeKeys,
  sweptRoutes,
  bodySchema,
  fillPath,
  exampleOf,
  tenantFingerprint,
  changedTables,
  listedIds,
  firstPage,
  RecordFinder,
  type RecordSource,
  type SweptRoute,
  type JsonSchema,
  type OpenApiDocument,
  type OpenApiOperation,
  type OpenApiParameter,
  type ExampleOptions,
} from './sweep.js';
export { eventually, createLinkedSystems, linkHealth, type LinkedSystems } from './link.js';
export { keepAliveRequest, type KeepAliveOutcome } from './keep-alive-request.js';
