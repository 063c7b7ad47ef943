// Agent API v1 for commands, on Web-standard Request/Response (the Next.js routes are one-line adapters):
//   GET  /api/agent/v1/commands?waitSeconds=N   → 200 ZCommandPollResponse (long poll, N ≤ 30)
//   POST /api/agent/v1/commands/<id>/report     → 200 ZCommandReportResponse
// Authenticated by the node credential like telemetry; a credential sees and answers only its own node's
// commands (another node's command id is a 404, the same as an unknown one).
import { parseAgentBearer, ZCommandReport } from '@fleetplane/contracts';
import { parsePollWait } from '@fleetplane/domain';
import { AgentApiError } from '../shared/agent-api-error';
import { agentErrorResponse, agentJson, readAgentJson } from '../shared/agent-http-io';
import { authenticateAgent } from '../telemetry/ingest.service';
import type { AgentHttpDeps } from '../telemetry/agent-http';
import { nodeCommandNotifier, type NodeCommandNotifier } from './command-notifier';
import { pollNodeCommands, reportNodeCommand } from './agent-commands.service';
import { connectionStringOf } from '../telemetry/telemetry-pool.sql';

/** A report carries a small result (engine ready info, cache figures); anything near this is not one. */
export const MAX_COMMAND_REPORT_BODY_BYTES = 256 * 1024;

export interface AgentCommandsHttpDeps extends AgentHttpDeps {
  /** Defaults to the process's listener on the pool's database. */
  notifier?: NodeCommandNotifier;
}

async function identify(deps: AgentHttpDeps, req: Request) {
  const credential = parseAgentBearer(req.headers.get('authorization'));
  if (!credential) {
    throw new AgentApiError(
      'unauthorized',
      'Send the node credential as "Authorization: Bearer <credential>" (written by fleetplane-agent enroll).',
    );
  }
  return authenticateAgent(deps.pool, credential);
}

function notifierFor(deps: AgentCommandsHttpDeps): NodeCommandNotifier {
  if (deps.notifier) return deps.notifier;
  const url = connectionStringOf(deps.pool);
  if (!url) throw new Error('The agent API pool has no connection string to listen on');
  return nodeCommandNotifier(url, deps.log);
}

function failure(deps: AgentHttpDeps, e: unknown, what: string): Response {
  if (e instanceof AgentApiError) return agentErrorResponse(e);
  deps.log?.error({ err: e }, `${what} failed`);
  return agentErrorResponse(new AgentApiError('internal', `The server could not process the ${what}; retry later.`));
}

export async function handleCommandPollRequest(deps: AgentCommandsHttpDeps, req: Request): Promise<Response> {
  try {
    const who = await identify(deps, req);
    const wait = parsePollWait(new URL(req.url).searchParams.get('waitSeconds'));
    if (wait === null) throw new AgentApiError('invalid_payload', 'waitSeconds must be a number of seconds from 0 to 30.');
    const body = await pollNodeCommands({ pool: deps.pool, notifier: notifierFor(deps), now: deps.now }, who, wait, req.signal);
    return agentJson(200, body);
  } catch (e) {
    return failure(deps, e, 'command poll');
  }
}

export async function handleCommandReportRequest(deps: AgentHttpDeps, req: Request, commandId: string): Promise<Response> {
  try {
    const who = await identify(deps, req);
    if (!commandId || commandId.length > 64) throw new AgentApiError('not_found', 'This node has no such command.');
    const report = await readAgentJson(req, MAX_COMMAND_REPORT_BODY_BYTES, ZCommandReport, 'command report');
    const body = await reportNodeCommand(deps.pool, who, commandId, report, deps.now?.() ?? new Date());
    return agentJson(200, body);
  } catch (e) {
    return failure(deps, e, 'command report');
  }
}
