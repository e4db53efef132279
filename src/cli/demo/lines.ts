// Splits a byte stream into text lines: TCP delivers chunks, not messages.
export function lineSplitter(): (chunk: Uint8Array | string) => string[] {
  let partial = '';
  const decoder = new TextDecoder();
  return (chunk) => {
    partial += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    return lines.map((line) => line.replace(/\r$/, ''));
  };
}
