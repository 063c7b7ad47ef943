// Weight-error figures of a dequantised tensor against its source (quantisation-formats.md §9.1):
// relative RMSE = ‖W − Ŵ‖₂ / ‖W‖₂ (normalised L2), SNR (SQNR) = 10·log10(Σw² / Σ(w − ŵ)²) dB, max |w − ŵ|.

export interface TensorQuality {
  name: string;
  elements: number;
  relRmse: number;
  /** null when the output reproduces the source exactly (infinite SNR). */
  snrDb: number | null;
  maxAbsError: number;
}

export interface ErrorSums {
  sumSq: number;
  errSq: number;
  maxErr: number;
  n: number;
  nonFinite: number;
}

/** 1 when an element's error is not a number: a source NaN/Inf that the target keeps identical is not an error. */
export function nonFiniteError(w: number, dequantised: number): number {
  if (Number.isNaN(w) && Number.isNaN(dequantised)) return 0;
  return w === dequantised ? 0 : 1;
}

/**
 * Σw², Σ(w − ŵ)², max|w − ŵ| over [start, end). The loop has no per-element checks (a NaN or Inf poisons the sums
 * and sends the range through the careful loop instead), which keeps it at memory speed.
 */
export function errorSums(source: Float32Array, dequantised: Float32Array, start = 0, end = source.length): ErrorSums {
  let sumSq = 0;
  let errSq = 0;
  let maxErr = 0;
  for (let i = start; i < end; i++) {
    const w = source[i]!;
    const e = w - dequantised[i]!;
    sumSq += w * w;
    errSq += e * e;
    maxErr = Math.max(maxErr, Math.abs(e));
  }
  if (Number.isFinite(sumSq) && Number.isFinite(errSq)) return { sumSq, errSq, maxErr, n: end - start, nonFinite: 0 };
  return carefulErrorSums(source, dequantised, start, end);
}

/** The same sums, skipping elements whose error is not a finite number and counting the ones that are real errors. */
export function carefulErrorSums(source: ArrayLike<number>, dequantised: ArrayLike<number>, start: number, end: number): ErrorSums {
  let sumSq = 0;
  let errSq = 0;
  let maxErr = 0;
  let nonFinite = 0;
  for (let i = start; i < end; i++) {
    const w = source[i]!;
    const d = dequantised[i]!;
    const e = w - d;
    if (!Number.isFinite(e)) {
      nonFinite += nonFiniteError(w, d);
      continue;
    }
    sumSq += w * w;
    errSq += e * e;
    maxErr = Math.max(maxErr, Math.abs(e));
  }
  return { sumSq, errSq, maxErr, n: end - start, nonFinite };
}

/** Running sums for one tensor; fold chunks in with `add` so a tensor never has to be compared in one piece. */
export class QualityAccumulator {
  private sumSq = 0;
  private errSq = 0;
  private maxErr = 0;
  private n = 0;
  private nonFinite = 0;

  add(source: Float32Array, dequantised: Float32Array, start = 0, end = source.length): void {
    this.addSums(errorSums(source, dequantised, start, end));
  }

  /** Folds in sums computed elsewhere (fused error loops that never materialise the dequantised values). */
  addSums(s: ErrorSums): void {
    this.sumSq += s.sumSq;
    this.errSq += s.errSq;
    if (s.maxErr > this.maxErr) this.maxErr = s.maxErr;
    this.n += s.n;
    this.nonFinite += s.nonFinite;
  }

  result(name: string): TensorQuality {
    if (this.nonFinite > 0) return { name, elements: this.n, relRmse: Infinity, snrDb: -Infinity, maxAbsError: Infinity };
    return summarise(name, this.n, this.sumSq, this.errSq, this.maxErr);
  }

  /** Raw sums, for aggregating several tensors into one artifact figure. */
  sums(): { sumSq: number; errSq: number } {
    return { sumSq: this.sumSq, errSq: this.errSq };
  }
}

function summarise(name: string, elements: number, sumSq: number, errSq: number, maxAbsError: number): TensorQuality {
  const relRmse = errSq === 0 ? 0 : sumSq === 0 ? Infinity : Math.sqrt(errSq / sumSq);
  const snrDb = errSq === 0 ? null : sumSq === 0 ? -Infinity : 10 * Math.log10(sumSq / errSq);
  return { name, elements, relRmse, snrDb, maxAbsError };
}

export function tensorQuality(name: string, source: Float32Array, dequantised: Float32Array): TensorQuality {
  const acc = new QualityAccumulator();
  acc.add(source, dequantised);
  return acc.result(name);
}

/** Limits for one artifact; a missing field is not checked. Recipes carry these per output format. */
export interface QualityThresholds {
  /** Worst tensor's relative RMSE must not exceed this. */
  maxRelRmse?: number;
  /** Worst tensor's SNR must be at least this many dB. */
  minSnrDb?: number;
  /** Largest absolute error in any tensor must not exceed this. */
  maxAbsError?: number;
}

export interface ArtifactQuality {
  tensors: TensorQuality[];
  quantisedTensors: number;
  /** Worst (largest) relative RMSE and smallest SNR over the quantised tensors; null when nothing was lossy. */
  worstRelRmse: number;
  worstSnrDb: number | null;
  maxAbsError: number;
  /** Element-weighted mean relative RMSE: sqrt(mean over tensors of relRmse² weighted by elements). */
  meanRelRmse: number;
}

export function aggregateQuality(tensors: TensorQuality[]): ArtifactQuality {
  let worstRelRmse = 0;
  let worstSnrDb: number | null = null;
  let maxAbsError = 0;
  let weighted = 0;
  let elements = 0;
  for (const t of tensors) {
    worstRelRmse = Math.max(worstRelRmse, t.relRmse);
    if (t.snrDb !== null) worstSnrDb = worstSnrDb === null ? t.snrDb : Math.min(worstSnrDb, t.snrDb);
    maxAbsError = Math.max(maxAbsError, t.maxAbsError);
    weighted += t.relRmse * t.relRmse * t.elements;
    elements += t.elements;
  }
  return {
    tensors,
    quantisedTensors: tensors.length,
    worstRelRmse,
    worstSnrDb,
    maxAbsError,
    meanRelRmse: elements === 0 ? 0 : Math.sqrt(weighted / elements),
  };
}

export interface QualityBreach {
  /** One sentence an operator can act on, naming the worst tensors. */
  message: string;
  worstTensors: TensorQuality[];
}

function fmt(v: number | null, digits = 4): string {
  if (v === null) return 'exact';
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(digits) : v.toExponential(2);
}

/** null when every tensor is within `thresholds`; otherwise which limits broke and the (up to `top`) worst offenders. */
export function checkQuality(quality: ArtifactQuality, thresholds: QualityThresholds, top = 3): QualityBreach | null {
  const breaking = (t: TensorQuality) =>
    (thresholds.maxRelRmse !== undefined && !(t.relRmse <= thresholds.maxRelRmse)) ||
    (thresholds.minSnrDb !== undefined && t.snrDb !== null && !(t.snrDb >= thresholds.minSnrDb)) ||
    (thresholds.maxAbsError !== undefined && !(t.maxAbsError <= thresholds.maxAbsError));
  const bad = quality.tensors.filter(breaking).sort((a, b) => b.relRmse - a.relRmse || a.name.localeCompare(b.name));
  if (bad.length === 0) return null;
  const limits = [
    thresholds.maxRelRmse !== undefined ? `relative RMSE ≤ ${thresholds.maxRelRmse}` : null,
    thresholds.minSnrDb !== undefined ? `SNR ≥ ${thresholds.minSnrDb} dB` : null,
    thresholds.maxAbsError !== undefined ? `max abs error ≤ ${thresholds.maxAbsError}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  const worst = bad.slice(0, top);
  const names = worst.map(
    (t) => `${t.name} (relative RMSE ${fmt(t.relRmse)}, SNR ${fmt(t.snrDb, 1)} dB, max abs error ${fmt(t.maxAbsError)})`,
  );
  return {
    message: `${bad.length} of ${quality.tensors.length} quantised tensors break the quality limits (${limits}); worst: ${names.join('; ')}`,
    worstTensors: worst,
  };
}
