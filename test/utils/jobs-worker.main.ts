/** A worker process with the test processors, for tests that kill workers: the same start-up as `npm run worker`. */
import { runWorkerProcess } from '../../src/worker';
import { JobsTestModule } from './jobs-test.module';

void runWorkerProcess({ extraImports: [JobsTestModule] });
