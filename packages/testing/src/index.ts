export { createTestApp, TEST_SECRET_KEY, type TestApp, type TestAppOptions } from './test-app.js';
export { TestClient, type TestResponse, type RequestOptions } from './client.js';
export { isolatedDatabase, testDatabaseKind, writePgliteSnapshot, DEFAULT_TEST_DATABASE_URL, type TestDatabaseKind, type IsolatedDatabase } from './database.js';
export { eventually, createLinkedSystems, linkHealth, type LinkedSystems } from './link.js';
