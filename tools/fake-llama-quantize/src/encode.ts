import { f32ToBf16Bits, f32ToF16Bits, quantiseQ4_0Into, quantiseQ8_0Into } from '@fleetplane/domain';
import type { GgmlTypeName } from '@fleetplane/quantise';

/** One whole tensor in a ggml type, with ggml's reference quantisers. */
export function encodeTensor(src: Float32Array, type: GgmlTypeName): Uint8Array {
  const n = src.length;
  switch (type) {
    case 'Q8_0': {
      const out = new Uint8Array((n / 32) * 34);
      quantiseQ8_0Into(src, out);
      return out;
    }
    case 'Q4_0': {
      const out = new Uint8Array((n / 32) * 18);
      quantiseQ4_0Into(src, out);
      return out;
    }
    case 'F16':
    case 'BF16': {
      const out = new Uint8Array(n * 2);
      const v = new DataView(out.buffer);
      for (let i = 0; i < n; i++) v.setUint16(2 * i, type === 'F16' ? f32ToF16Bits(src[i]!) : f32ToBf16Bits(src[i]!), true);
      return out;
    }
    case 'F32':
      return new Uint8Array(src.buffer.slice(src.byteOffset, src.byteOffset + n * 4));
  }
}
