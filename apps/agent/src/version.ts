/** Reported to the server on enrollment and with every batch; kept equal to package.json by a test. */
export const AGENT_VERSION = '0.1.0';
