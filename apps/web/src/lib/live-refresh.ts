/** Live views poll this often; the agents report every 5–10 s. */
export const LIVE_REFRESH_MS = 5_000;
