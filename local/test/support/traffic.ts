import { request } from "./cloud.js";

/** Steady writes from every client location, as users would send, until stopped. */
export function steadyTraffic(routerUrl: string): { stop(): Promise<void>; sent(): number } {
  let running = true;
  let sent = 0;
  const loop = async (location: string) => {
    while (running) {
      await request(routerUrl, {
        path: "/v1/calculations",
        location,
        body: { operation: "add", operands: [sent, 1] },
      }).catch(() => undefined);
      sent += 1;
    }
  };
  const loops = ["us", "eu"].map(loop);
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
    sent: () => sent,
  };
}
