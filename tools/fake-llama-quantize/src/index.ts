import { fileURLToPath } from 'node:url';

/** Absolute path of the executable stand-in, for command templates in tests and the demo. */
export const fakeLlamaQuantizeBin = fileURLToPath(new URL('../bin/llama-quantize', import.meta.url));
