// Agent API v1 for commands (see http-io.ts for how the handlers are used):
//   GET  /api/agent/v1/commands?waitSeconds=N   → 200 ZCommandPollResponse (long poll, N ≤ 30)
//   POST /api/agent/v1/commands/<id>/report     → 200 ZCommandReportResponse
// Authenticated by the node credential like telemetry; a credential sees and answers only its own node's
// commands (another node's command id is a 404, the same as an unknown one).
import { ZCommandReport } from '@fleetplane/contracts';
import { parsePollWait } from '@fleetplane/domain';
import {
  AgentApiError,
  connectionStringOf,
  nodeCommandNotifier,
  pollNodeCommands,
  reportNodeCommand,
  type NodeCommandNotifier,
} from '@fleetplane/services';
import { agentErrorResponse, agentJson, identifyAgent, readAgentJson, unexpected, type AgentHttpDeps } from './http-io';

/** A report carries a small result (engine ready info, cache figures); anything near this is not one. */
export const MAX_COMMAND_REPORT_BODY_BYTES = 256 * 1024;

export interface AgentCommandsHttpDeps extends AgentHttpDeps {
  /** Defaults to the process's listener on the pool's database. */
  notifier?: NodeCommandNotifier;
}

function notifierFor(deps: AgentCommandsHttpDeps): NodeCommandNotifier {
  if (deps.notifier) return deps.notifier;
  const url = connectionStringOf(deps.pool);
  if (!url) throw new Error('The agent API pool has no connection string to listen on');
  return nodeCommandNotifier(url, deps.log);
}

function failure(deps: AgentHttpDeps, e: unknown, what: string): Response {
  return e instanceof AgentApiError ? agentErrorResponse(e) : unexpected(deps, e, what);
}

export async function handleCommandPollRequest(deps: AgentCommandsHttpDeps, req: Request): Promise<Response> {
  try {
    const who = await identifyAgent(deps, req);
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
    const who = await identifyAgent(deps, req);
    if (!commandId || commandId.length > 64) throw new AgentApiError('not_found', 'This node has no such command.');
    const report = await readAgentJson(req, MAX_COMMAND_REPORT_BODY_BYTES, ZCommandReport, 'command report');
    const body = await reportNodeCommand(deps.pool, who, commandId, report, deps.now?.() ?? new Date());
    return agentJson(200, body);
  } catch (e) {
    return failure(deps, e, 'command report');
  }
}
