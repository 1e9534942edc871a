import { dropDatabases } from './test-databases';

export default async function globalTeardown(): Promise<void> {
  const runId = process.env.CA_TEST_RUN_ID;
  if (runId) await dropDatabases((name) => name.startsWith(`ca_test_${runId}_`));
}
