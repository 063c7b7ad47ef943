"""The FP8 block-128 conversion of bench:quantise written as vectorised numpy, as a reference point.

    python3 tools/bench/src/fp8_block_numpy.py <source dir> <output dir>

Same work as the TypeScript converter's FP8 target: decode F8_E4M3 (E8M0 128x128 block scales) and MXFP4
experts (E8M0 per 32) to float32, requantise every 2-D non-ignored weight to E4M3 with s = amax/448 per
128x128 block (round-to-nearest-even on the float32 bits, saturating at 448), write F32 weight_scale_inv, copy
BF16 tensors; one whole tensor in memory at a time (the natural numpy shape). Prints one JSON line.
"""
import json, os, resource, sys, time

import numpy as np

t0 = time.perf_counter()
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out)

E4M3 = np.zeros(256, dtype=np.float32)
for c in range(256):
    s = -1.0 if c & 0x80 else 1.0
    e, m = (c >> 3) & 15, c & 7
    E4M3[c] = np.nan if (e == 15 and m == 7) else (s * m * 2.0**-9 if e == 0 else s * (1 + m / 8) * 2.0 ** (e - 7))
E8M0 = np.array([2.0 ** (e - 127) if e != 255 else np.nan for e in range(256)], dtype=np.float32)
FP4 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6], dtype=np.float32)
IGNORED = ["embed", "lm_head", "head.weight", "norm", "mlp.gate.weight", "e_score_correction_bias"]


def encode_e4m3(x):
    b = x.view(np.uint32)
    sign = ((b >> 24) & 0x80).astype(np.uint8)
    a = b & 0x7FFFFFFF
    r = a + 0x7FFFF + ((a >> 20) & 1)
    normal = ((((r >> 23) - 120) << 3) | ((r >> 20) & 7)).astype(np.uint8)
    sub = np.rint(np.abs(x) * 512).astype(np.uint8)
    code = np.where(a < 0x3C800000, sub, np.where(a >= 0x43E00000, np.uint8(0x7E), normal))
    code = np.where(a > 0x7F800000, np.uint8(0x7F), code)
    return code | sign


def quantise_block(w):
    rows, cols = w.shape
    pr, pc = -rows % 128, -cols % 128
    wp = np.pad(w, ((0, pr), (0, pc))) if pr or pc else w
    br, bc = wp.shape[0] // 128, wp.shape[1] // 128
    blocks = wp.reshape(br, 128, bc, 128)
    amax = np.abs(blocks).max(axis=(1, 3))
    scale = np.where(amax > 0, amax / np.float32(448), np.float32(1)).astype(np.float32)
    scaled = (blocks * (np.float32(1) / scale)[:, None, :, None]).astype(np.float32).reshape(wp.shape)[:rows, :cols]
    return encode_e4m3(np.ascontiguousarray(scaled)), scale


def read_headers(d):
    index = json.load(open(os.path.join(d, "model.safetensors.index.json")))
    files = sorted(set(index["weight_map"].values()))
    tensors = []
    for f in files:
        with open(os.path.join(d, f), "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            h = json.loads(fh.read(n))
        h.pop("__metadata__", None)
        for name, t in h.items():
            tensors.append((f, 8 + n + t["data_offsets"][0], t["data_offsets"][1] - t["data_offsets"][0], name, t["dtype"], t["shape"]))
    return sorted(tensors)


tensors = read_headers(src)
by_name = {t[3]: t for t in tensors}
handles = {}


def read(t):
    f, off, n = t[0], t[1], t[2]
    fh = handles.setdefault(f, open(os.path.join(src, f), "rb"))
    fh.seek(off)
    return np.frombuffer(fh.read(n), dtype=np.uint8)


scales = {n for n in by_name if n.endswith("_scale_inv") or n.endswith("weight_scale")}
plan = []  # (name, out dtype, out shape, bytes, source tensor)
for t in tensors:
    f, off, n, name, dtype, shape = t
    if name in scales:
        continue
    if dtype in ("F8_E4M3", "I8"):
        if len(shape) < 2 or any(p in name for p in IGNORED):
            raise SystemExit(f"unexpected quantised ignored tensor {name}")
        lshape = shape if dtype == "F8_E4M3" else [shape[0], shape[1] * 2]
        sshape = [-(-lshape[0] // 128), -(-lshape[1] // 128)]
        plan.append((name, "F8_E4M3", lshape, lshape[0] * lshape[1], t))
        plan.append((name[: -len("weight")] + "weight_scale_inv", "F32", sshape, sshape[0] * sshape[1] * 4, None))
    else:
        plan.append((name, dtype, shape, n, t))

# Header first (every output size is known from the shapes), then one tensor at a time: never the whole model in memory.
header = {"__metadata__": {"format": "pt"}}
offset = 0
for name, dtype, shape, nbytes, _ in plan:
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + nbytes]}
    offset += nbytes
hj = json.dumps(header, separators=(",", ":"))
hj += " " * ((8 - len(hj.encode()) % 8) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as fh:
    fh.write(len(hj.encode()).to_bytes(8, "little"))
    fh.write(hj.encode())
    pending_scale = None
    for name, dtype, shape, nbytes, t in plan:
        if t is None:
            fh.write(pending_scale)
            continue
        sdtype, sshape = t[4], t[5]
        if sdtype == "F8_E4M3":
            s = by_name[name[: -len("weight")] + "weight_scale_inv"]
            codes = read(t).reshape(sshape)
            sc = E8M0[read(s)].reshape(s[5])
            w = E4M3[codes] * np.repeat(np.repeat(sc, 128, axis=0), 128, axis=1)[: sshape[0], : sshape[1]]
        elif sdtype == "I8":
            s = by_name[name[: -len("weight")] + "weight_scale"]
            packed = read(t).reshape(sshape)
            vals = np.empty((sshape[0], sshape[1] * 2), dtype=np.float32)
            vals[:, 0::2] = FP4[packed & 15]
            vals[:, 1::2] = FP4[packed >> 4]
            sc = E8M0[read(s)].reshape(sshape[0], -1)
            w = (vals.reshape(sshape[0], -1, 32) * sc[:, :, None]).reshape(sshape[0], -1)
        else:
            fh.write(read(t).tobytes())
            continue
        codes, scale = quantise_block(w.astype(np.float32))
        fh.write(codes.tobytes())
        pending_scale = scale.astype("<f4").tobytes()
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wallMs": (time.perf_counter() - t0) * 1000, "cpuMs": (ru.ru_utime + ru.ru_stime) * 1000, "maxRssKiB": ru.ru_maxrss, "outputBytes": offset}))
