/** The bytes of a model at a URL (in Node, read-model-bytes.ts reads a file path). */
export async function readModelBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}
