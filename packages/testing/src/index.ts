export { createTestApp, TEST_SECRET_KEY, type TestApp, type TestAppOptions } from './test-app.js';
export { TestClient, type TestResponse, type RequestOptions } from './client.js';
export { isolatedDatabase, testDatabaseKind, writePgliteSnapshot, DEFAULT_TEST_DATABASE_URL, type TestDatabaseKind, type IsolatedDatabase } from './database.js';
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
