// Runs one pipeline step in its own process so a test can kill -9 it mid-step (worker crash).
import { createPrismaClient } from '@fleetplane/db';
import { executePipelineStep } from '../step-runner.service';

const { DATABASE_URL, STEP_ID, HUB_URL, DATA_DIR, TOOLS } = process.env;
if (!DATABASE_URL || !STEP_ID || !HUB_URL || !DATA_DIR) throw new Error('DATABASE_URL, STEP_ID, HUB_URL and DATA_DIR are required');
const prisma = createPrismaClient(DATABASE_URL);
await executePipelineStep(
  {
    prisma,
    settings: { defaultHubUrl: HUB_URL, secretKey: undefined, dataDir: DATA_DIR, env: {} },
    diskMarginBytes: 0,
    tools: TOOLS ? (JSON.parse(TOOLS) as Record<string, string>) : undefined,
  },
  STEP_ID,
  { isFinalAttempt: false },
);
await prisma.$disconnect();
