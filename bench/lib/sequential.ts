import { Agent, request } from "node:http";

/** What {@link sequential} measured. */
export interface SequentialResult {
  /** Each request's time from sending to its last byte, in ms, in order. */
  times: number[];
  /** Each answer's parsed body, in order. */
  answers: unknown[];
}

/**
 * Sends POSTed JSON bodies one after another on one keep-alive connection and times each:
 * the latency of one operation when nothing else runs. Any non-200 answer, or a GraphQL
 * answer with errors, fails the run.
 */
export async function sequential(
  url: string,
  bodies: Iterable<string>,
  label: string,
): Promise<SequentialResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  const answers: unknown[] = [];
  try {
    for (const body of bodies) {
      const started = performance.now();
      const { status, text } = await post(url, body, agent);
      times.push(performance.now() - started);
      const answer = JSON.parse(text) as { errors?: unknown[] };
      if (status !== 200 || answer.errors !== undefined) {
        throw new Error(`${label} answered ${status} ${text.slice(0, 300)} to ${body}.`);
      }
      answers.push(answer);
    }
  } finally {
    agent.destroy();
  }
  return { times, answers };
}

function post(url: string, body: string, agent: Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
