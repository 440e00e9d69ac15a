// Where the demo sends its events, and under which project.
//
// By default: the server the page came from (the local collector serves this app at /demo/,
// and `npm run dev` proxies /v1 and /api to it), under a fixed demo project key.
//
// To send to Lunary cloud or a self-hosted Lunary instead, either
//   - open the page with  ?apiUrl=https://api.lunary.ai&appId=<your project's public key>
//   - or build it with    VITE_LUNARY_API_URL=… VITE_LUNARY_APP_ID=… npm run build
// The query parameters win over the build-time variables.

/** The demo's project key: any UUID is a project for the local collector. */
export const DEMO_PROJECT = "6f1c2b9e-3a7d-4c2e-9b4f-8d5e1a0c7b3f";

/**
 * @param {Location | URL} location the page's address
 * @param {Record<string, string | undefined>} env Vite's import.meta.env
 * @returns {{ apiUrl: string, appId: string, from: "query" | "build" | "default" }}
 */
export function resolveConfig(location, env) {
  const params = new URLSearchParams(location.search);
  const queryUrl = params.get("apiUrl")?.trim();
  const queryId = params.get("appId")?.trim();
  const envUrl = env.VITE_LUNARY_API_URL?.trim();
  const envId = env.VITE_LUNARY_APP_ID?.trim();

  const apiUrl = queryUrl || envUrl || location.origin;
  const appId = queryId || envId || DEMO_PROJECT;
  const from = queryUrl || queryId ? "query" : envUrl || envId ? "build" : "default";
  return { apiUrl: apiUrl.replace(/\/+$/, ""), appId, from };
}
