/** POSTs one body and fails unless the answer is exactly `expected`: every target must agree. */
export async function expectAnswer(
  url: string,
  body: string,
  expected: string,
  label: string,
): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const text = await response.text();
  if (response.status !== 200 || text !== expected) {
    throw new Error(
      `${label} answered ${response.status} ${text.slice(0, 300)}, but every target must answer ${expected.slice(0, 300)}.`,
    );
  }
}
