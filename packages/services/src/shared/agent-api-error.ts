import {
  AGENT_ERROR_HTTP_STATUS,
  agentErrorBody,
  type TAgentError,
  type TAgentErrorCode,
  type TAgentErrorIssue,
} from '@fleetplane/contracts';

/** A refusal of the versioned agent API: carries the wire code, the message and, for bad payloads, the field paths. */
export class AgentApiError extends Error {
  constructor(
    readonly code: TAgentErrorCode,
    message: string,
    readonly issues?: readonly TAgentErrorIssue[],
  ) {
    super(message);
    this.name = 'AgentApiError';
  }

  get status(): number {
    return AGENT_ERROR_HTTP_STATUS[this.code];
  }

  toBody(): TAgentError {
    return agentErrorBody(this.code, this.message, this.issues);
  }
}
