/** Sends every body once (a few at a time), so that a cache holds the whole working set. */
export async function prefill(
  url: string,
  bodies: readonly string[],
  concurrency = 8,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const body = bodies[next++] as string;
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
