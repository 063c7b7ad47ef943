/** "1 node", "3 nodes": a count with its noun, never "node(s)" (messages, logs and the dashboard alike). */
export function countOf(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
