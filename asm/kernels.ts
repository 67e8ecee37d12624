// batchwise SIMD kernels for the tfjs `wasm` backend (AssemblyScript, wasm SIMD).
//
// The module imports tfjs's own `WebAssembly.Memory` (env.memory) and works in place on
// tensors in tfjs's heap: every function takes byte offsets of tfjs tensors and sizes.
// Safety rules that make importing a live foreign memory sound, checked by
// scripts/build-wasm.mjs and lib/backend/simd.ts:
//   - no static data (no strings, no arrays, no constant tables): the binary has no data
//     section, so instantiation writes nothing into tfjs's memory;
//   - no heap allocation and no start function (runtime "stub", never used);
//   - no imports except the memory (abort is compiled away with `--use abort=`).
// Each function writes only the output range it is given.
//
// Layouts are NHWC (channels innermost), so loops vectorise over channels with f32x4 and
// finish the last C % 4 channels with scalar code. Loads need no alignment.
// Helpers are plain functions, not `@inline` (prettier cannot parse decorators on
// functions); binaryen -O3 inlines the small ones (dwTap stays a call, once per tap and image).

// ---------------------------------------------------------------------------------------
// Small integer helpers (divisor > 0)

function ceilDiv(a: i32, b: i32): i32 {
  return a >= 0 ? (a + b - 1) / b : -(-a / b);
}

function floorDiv(a: i32, b: i32): i32 {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

function imax(a: i32, b: i32): i32 {
  return a > b ? a : b;
}

function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/** Byte offset of element index `i` of 4-byte elements. */
function b4(i: i32): usize {
  return (<usize>i) << 2;
}

// ---------------------------------------------------------------------------------------
// DepthwiseConv2dNativeBackpropFilter

// One filter tap (i, j) of one image, channel multiplier 1: for every channel c,
//   tap[c] += sum over (oh, ow) in [oh0, oh1) x [ow0, ow1) of
//             x[oh*sh + offH, ow*sw + offW, c] * dy[oh, ow, c].
// Channels go 16 at a time (4 f32x4 accumulators), then 4 at a time, then one at a time.
function dwTap(
  xImg: usize,
  dyImg: usize,
  tap: usize,
  c: i32,
  w: i32,
  wo: i32,
  oh0: i32,
  oh1: i32,
  ow0: i32,
  ow1: i32,
  sh: i32,
  sw: i32,
  offH: i32,
  offW: i32,
): void {
  const pix = b4(c);
  const rowX = <usize>w * pix;
  const rowDy = <usize>wo * pix;
  const stepX = <usize>sw * pix;
  let ch = 0;
  for (; ch + 16 <= c; ch += 16) {
    const co = b4(ch);
    let a0 = v128.load(tap + co);
    let a1 = v128.load(tap + co, 16);
    let a2 = v128.load(tap + co, 32);
    let a3 = v128.load(tap + co, 48);
    for (let oh = oh0; oh < oh1; oh++) {
      let px = xImg + <usize>(oh * sh + offH) * rowX + <usize>(ow0 * sw + offW) * pix + co;
      let pd = dyImg + <usize>oh * rowDy + <usize>ow0 * pix + co;
      for (let ow = ow0; ow < ow1; ow++) {
        a0 = f32x4.add(a0, f32x4.mul(v128.load(px), v128.load(pd)));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(px, 16), v128.load(pd, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(px, 32), v128.load(pd, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(px, 48), v128.load(pd, 48)));
        px += stepX;
        pd += pix;
      }
    }
    v128.store(tap + co, a0);
    v128.store(tap + co, a1, 16);
    v128.store(tap + co, a2, 32);
    v128.store(tap + co, a3, 48);
  }
  for (; ch + 4 <= c; ch += 4) {
    const co = b4(ch);
    let a0 = v128.load(tap + co);
    for (let oh = oh0; oh < oh1; oh++) {
      let px = xImg + <usize>(oh * sh + offH) * rowX + <usize>(ow0 * sw + offW) * pix + co;
      let pd = dyImg + <usize>oh * rowDy + <usize>ow0 * pix + co;
      for (let ow = ow0; ow < ow1; ow++) {
        a0 = f32x4.add(a0, f32x4.mul(v128.load(px), v128.load(pd)));
        px += stepX;
        pd += pix;
      }
    }
    v128.store(tap + co, a0);
  }
  for (; ch < c; ch++) {
    const co = b4(ch);
    let a: f32 = load<f32>(tap + co);
    for (let oh = oh0; oh < oh1; oh++) {
      let px = xImg + <usize>(oh * sh + offH) * rowX + <usize>(ow0 * sw + offW) * pix + co;
      let pd = dyImg + <usize>oh * rowDy + <usize>ow0 * pix + co;
      for (let ow = ow0; ow < ow1; ow++) {
        a += load<f32>(px) * load<f32>(pd);
        px += stepX;
        pd += pix;
      }
    }
    store<f32>(tap + co, a);
  }
}

/**
 * Gradient of a depthwise 2-D convolution with respect to its filter (float32, NHWC).
 *
 *   out[i, j, c, m] = sum over n, oh, ow of
 *       x[n, oh*sh - padT + i*dh, ow*sw - padL + j*dw, c] * dy[n, oh, ow, c*mult + m]
 * (terms whose x position falls in the padding are zero).
 *
 * x: [n, h, w, c], dy: [n, ho, wo, c*mult], out: [fh, fw, c, mult] (overwritten).
 * Channel multiplier 1 is vectorised over channels; other multipliers run scalar code.
 */
export function depthwiseConv2dBackpropFilter(
  x: usize,
  dy: usize,
  out: usize,
  n: i32,
  h: i32,
  w: i32,
  c: i32,
  mult: i32,
  ho: i32,
  wo: i32,
  fh: i32,
  fw: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  padT: i32,
  padL: i32,
): void {
  const co = c * mult;
  memory.fill(out, 0, b4(fh * fw * co));
  const imgX = <usize>h * <usize>w * b4(c);
  const imgDy = <usize>ho * <usize>wo * b4(co);
  for (let b = 0; b < n; b++) {
    const xImg = x + <usize>b * imgX;
    const dyImg = dy + <usize>b * imgDy;
    for (let i = 0; i < fh; i++) {
      const offH = i * dh - padT;
      // Valid rows: 0 <= oh*sh + offH < h.
      const oh0 = imax(0, ceilDiv(-offH, sh));
      const oh1 = imin(ho, floorDiv(h - 1 - offH, sh) + 1);
      if (oh0 >= oh1) continue;
      for (let j = 0; j < fw; j++) {
        const offW = j * dw - padL;
        const ow0 = imax(0, ceilDiv(-offW, sw));
        const ow1 = imin(wo, floorDiv(w - 1 - offW, sw) + 1);
        if (ow0 >= ow1) continue;
        const tap = out + b4((i * fw + j) * co);
        if (mult == 1) {
          dwTap(xImg, dyImg, tap, c, w, wo, oh0, oh1, ow0, ow1, sh, sw, offH, offW);
        } else {
          dwTapMult(xImg, dyImg, tap, c, mult, w, wo, oh0, oh1, ow0, ow1, sh, sw, offH, offW);
        }
      }
    }
  }
}

// Scalar version of dwTap for a channel multiplier > 1.
function dwTapMult(
  xImg: usize,
  dyImg: usize,
  tap: usize,
  c: i32,
  mult: i32,
  w: i32,
  wo: i32,
  oh0: i32,
  oh1: i32,
  ow0: i32,
  ow1: i32,
  sh: i32,
  sw: i32,
  offH: i32,
  offW: i32,
): void {
  const co = c * mult;
  for (let oh = oh0; oh < oh1; oh++) {
    const xRow = xImg + <usize>(oh * sh + offH) * <usize>w * b4(c);
    const dyRow = dyImg + <usize>oh * <usize>wo * b4(co);
    for (let ow = ow0; ow < ow1; ow++) {
      const px = xRow + <usize>(ow * sw + offW) * b4(c);
      const pd = dyRow + <usize>ow * b4(co);
      for (let ch = 0; ch < c; ch++) {
        const xv = load<f32>(px + b4(ch));
        const base = ch * mult;
        for (let m = 0; m < mult; m++) {
          const t = tap + b4(base + m);
          store<f32>(t, load<f32>(t) + xv * load<f32>(pd + b4(base + m)));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// MaxPoolGrad

/**
 * Gradient of 2-D max pooling (float32, NHWC).
 *
 * For each pooling window, the position of the first maximum of x in row-major window order
 * (strict `>`, as tfjs's cpu backend; NaNs never win; a window of only -Infinity/NaN has no
 * maximum and passes no gradient) receives dy of that window; overlapping windows add.
 *
 * x: [n, h, w, c], dy: [n, ho, wo, c], out: [n, h, w, c] (overwritten).
 */
export function maxPoolGrad(
  x: usize,
  dy: usize,
  out: usize,
  n: i32,
  h: i32,
  w: i32,
  c: i32,
  ho: i32,
  wo: i32,
  fh: i32,
  fw: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  padT: i32,
  padL: i32,
): void {
  const pix = b4(c);
  const img = <usize>h * <usize>w * pix;
  memory.fill(out, 0, <usize>n * img);
  const negInf = f32x4.splat(-Infinity);
  const none = i32x4.splat(-1);
  for (let b = 0; b < n; b++) {
    const xImg = x + <usize>b * img;
    const outImg = out + <usize>b * img;
    let pd = dy + <usize>b * <usize>ho * <usize>wo * pix;
    for (let oh = 0; oh < ho; oh++) {
      const r0 = oh * sh - padT;
      const i0 = imax(0, ceilDiv(-r0, dh));
      const i1 = imin(fh, floorDiv(h - 1 - r0, dh) + 1);
      for (let ow = 0; ow < wo; ow++) {
        const c0 = ow * sw - padL;
        const j0 = imax(0, ceilDiv(-c0, dw));
        const j1 = imin(fw, floorDiv(w - 1 - c0, dw) + 1);
        let ch = 0;
        for (; ch + 4 <= c; ch += 4) {
          const co = b4(ch);
          let best = negInf;
          let arg = none;
          for (let i = i0; i < i1; i++) {
            const rowPos = (r0 + i * dh) * w;
            for (let j = j0; j < j1; j++) {
              const pos = rowPos + c0 + j * dw;
              const v = v128.load(xImg + <usize>pos * pix + co);
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              arg = v128.bitselect(i32x4.splat(pos), arg, gt);
            }
          }
          const g = v128.load(pd + co);
          for (let i = i0; i < i1; i++) {
            const rowPos = (r0 + i * dh) * w;
            for (let j = j0; j < j1; j++) {
              const pos = rowPos + c0 + j * dw;
              // Branch-free: which position wins is data-dependent and mispredicts.
              const hit = i32x4.eq(arg, i32x4.splat(pos));
              const po = outImg + <usize>pos * pix + co;
              v128.store(po, f32x4.add(v128.load(po), v128.and(g, hit)));
            }
          }
        }
        for (; ch < c; ch++) {
          const co = b4(ch);
          let best: f32 = -Infinity;
          let arg: i32 = -1;
          for (let i = i0; i < i1; i++) {
            const rowPos = (r0 + i * dh) * w;
            for (let j = j0; j < j1; j++) {
              const pos = rowPos + c0 + j * dw;
              const v = load<f32>(xImg + <usize>pos * pix + co);
              if (v > best) {
                best = v;
                arg = pos;
              }
            }
          }
          if (arg >= 0) {
            const po = outImg + <usize>arg * pix + co;
            store<f32>(po, load<f32>(po) + load<f32>(pd + co));
          }
        }
        pd += pix;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// AvgPoolGrad

/**
 * Gradient of 2-D average pooling (float32, NHWC), with tfjs's convention: every input
 * position of a window receives dy * scale, scale = 1 / (fh * fw) as passed by the caller,
 * positions in the padding are skipped; overlapping windows add.
 *
 * dy: [n, ho, wo, c], out: [n, h, w, c] (overwritten).
 */
export function avgPoolGrad(
  dy: usize,
  out: usize,
  n: i32,
  h: i32,
  w: i32,
  c: i32,
  ho: i32,
  wo: i32,
  fh: i32,
  fw: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  padT: i32,
  padL: i32,
  scale: f32,
): void {
  const pix = b4(c);
  const img = <usize>h * <usize>w * pix;
  memory.fill(out, 0, <usize>n * img);
  const s4 = f32x4.splat(scale);
  for (let b = 0; b < n; b++) {
    const outImg = out + <usize>b * img;
    let pd = dy + <usize>b * <usize>ho * <usize>wo * pix;
    for (let oh = 0; oh < ho; oh++) {
      const r0 = oh * sh - padT;
      const i0 = imax(0, ceilDiv(-r0, dh));
      const i1 = imin(fh, floorDiv(h - 1 - r0, dh) + 1);
      for (let ow = 0; ow < wo; ow++) {
        const c0 = ow * sw - padL;
        const j0 = imax(0, ceilDiv(-c0, dw));
        const j1 = imin(fw, floorDiv(w - 1 - c0, dw) + 1);
        for (let i = i0; i < i1; i++) {
          const rowPos = (r0 + i * dh) * w;
          for (let j = j0; j < j1; j++) {
            const po = outImg + <usize>(rowPos + c0 + j * dw) * pix;
            let ch = 0;
            for (; ch + 4 <= c; ch += 4) {
              const co = b4(ch);
              v128.store(po + co, f32x4.add(v128.load(po + co), f32x4.mul(v128.load(pd + co), s4)));
            }
            for (; ch < c; ch++) {
              const co = b4(ch);
              store<f32>(po + co, load<f32>(po + co) + load<f32>(pd + co) * scale);
            }
          }
        }
        pd += pix;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// UnsortedSegmentSum

/**
 * Segment sum of float32 rows: out[s, :] = sum of x[r, :] over rows r with ids[r] == s.
 * Rows whose id is outside [0, numSegments) are dropped (as TensorFlow does).
 *
 * x: [rows, d] float32, ids: [rows] int32, out: [numSegments, d] (overwritten).
 */
export function unsortedSegmentSumF32(
  x: usize,
  ids: usize,
  out: usize,
  rows: i32,
  d: i32,
  numSegments: i32,
): void {
  const rowBytes = b4(d);
  memory.fill(out, 0, <usize>numSegments * rowBytes);
  for (let r = 0; r < rows; r++) {
    const s = load<i32>(ids + b4(r));
    if (<u32>s >= <u32>numSegments) continue;
    const src = x + <usize>r * rowBytes;
    const dst = out + <usize>s * rowBytes;
    let k = 0;
    for (; k + 16 <= d; k += 16) {
      const o = b4(k);
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
      v128.store(dst + o, f32x4.add(v128.load(dst + o, 16), v128.load(src + o, 16)), 16);
      v128.store(dst + o, f32x4.add(v128.load(dst + o, 32), v128.load(src + o, 32)), 32);
      v128.store(dst + o, f32x4.add(v128.load(dst + o, 48), v128.load(src + o, 48)), 48);
    }
    for (; k + 4 <= d; k += 4) {
      const o = b4(k);
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
    for (; k < d; k++) {
      const o = b4(k);
      store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
    }
  }
}

/** As {@link unsortedSegmentSumF32} for int32 rows (wrapping addition). */
export function unsortedSegmentSumI32(
  x: usize,
  ids: usize,
  out: usize,
  rows: i32,
  d: i32,
  numSegments: i32,
): void {
  const rowBytes = b4(d);
  memory.fill(out, 0, <usize>numSegments * rowBytes);
  for (let r = 0; r < rows; r++) {
    const s = load<i32>(ids + b4(r));
    if (<u32>s >= <u32>numSegments) continue;
    const src = x + <usize>r * rowBytes;
    const dst = out + <usize>s * rowBytes;
    let k = 0;
    for (; k + 4 <= d; k += 4) {
      const o = b4(k);
      v128.store(dst + o, i32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
    for (; k < d; k++) {
      const o = b4(k);
      store<i32>(dst + o, load<i32>(dst + o) + load<i32>(src + o));
    }
  }
}

// ---------------------------------------------------------------------------------------
// GatherV2 (batchDims 0)

/** Position of the first of `count` int32 indices outside [0, dim), or -1 if all are valid. */
export function firstIndexOutOfRange(indices: usize, count: i32, dim: i32): i32 {
  for (let k = 0; k < count; k++) {
    if (<u32>load<i32>(indices + b4(k)) >= <u32>dim) return k;
  }
  return -1;
}

/**
 * Row gather: x viewed as [outer, dim, rowBytes bytes];
 * out[o, k, :] = x[o, indices[k], :] for o < outer, k < count. Indices must be valid
 * (check with {@link firstIndexOutOfRange} first).
 */
export function gatherRows(
  x: usize,
  indices: usize,
  out: usize,
  outer: i32,
  dim: i32,
  count: i32,
  rowBytes: i32,
): void {
  const rb = <usize>rowBytes;
  let dst = out;
  for (let o = 0; o < outer; o++) {
    const base = x + <usize>o * <usize>dim * rb;
    if ((rowBytes & 15) == 0 && rowBytes <= 1024) {
      for (let k = 0; k < count; k++) {
        const src = base + <usize>load<i32>(indices + b4(k)) * rb;
        for (let q: usize = 0; q < rb; q += 16) {
          v128.store(dst + q, v128.load(src + q));
        }
        dst += rb;
      }
    } else {
      for (let k = 0; k < count; k++) {
        memory.copy(dst, base + <usize>load<i32>(indices + b4(k)) * rb, rb);
        dst += rb;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Sum / Mean over leading axes: out[c] = scale · Σ_r x[r, c] for x viewed as [rows, cols].
// Bias gradients (Σ of dY over the N·H·W rows) take this path every step; the stock kernels
// transpose the reduced axes to the end first.

export function sumRowsF32(x: usize, out: usize, rows: i32, cols: i32, scale: f32): void {
  const rowBytes = b4(cols);
  memory.fill(out, 0, rowBytes);
  for (let r = 0; r < rows; r++) {
    const src = x + <usize>r * rowBytes;
    let k = 0;
    for (; k + 16 <= cols; k += 16) {
      const o = b4(k);
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(src + o)));
      v128.store(out + o, f32x4.add(v128.load(out + o, 16), v128.load(src + o, 16)), 16);
      v128.store(out + o, f32x4.add(v128.load(out + o, 32), v128.load(src + o, 32)), 32);
      v128.store(out + o, f32x4.add(v128.load(out + o, 48), v128.load(src + o, 48)), 48);
    }
    for (; k + 4 <= cols; k += 4) {
      const o = b4(k);
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(src + o)));
    }
    for (; k < cols; k++) {
      const o = b4(k);
      store<f32>(out + o, load<f32>(out + o) + load<f32>(src + o));
    }
  }
  if (scale != 1) {
    for (let k = 0; k < cols; k++) {
      const o = b4(k);
      store<f32>(out + o, load<f32>(out + o) * scale);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Conv2DBackpropFilter for inputs with few channels (the first layer of a CNN):
// out[kh,kw,ci,co] = Σ_{n,i,j} x[n, i·sh−padT+kh, j·sw−padL+kw, ci] · dy[n,i,j,co].
// The XNNPACK mapping (forward conv with batch and channels swapped) has only fh·fw·Ci output
// pixels here and runs at ≈2 GFLOP/s; this loop vectorises over co instead.

export function conv2dBackpropFilterSmallC(
  x: usize,
  dy: usize,
  out: usize,
  n: i32,
  h: i32,
  w: i32,
  ci: i32,
  ho: i32,
  wo: i32,
  co: i32,
  fh: i32,
  fw: i32,
  sh: i32,
  sw: i32,
  padT: i32,
  padL: i32,
): void {
  const coBytes = b4(co);
  memory.fill(out, 0, <usize>(fh * fw * ci) * coBytes);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const dyRow = dy + <usize>((b * ho + i) * wo + j) * coBytes;
        for (let kh = 0; kh < fh; kh++) {
          const hh = i * sh - padT + kh;
          if (hh < 0 || hh >= h) continue;
          for (let kw = 0; kw < fw; kw++) {
            const ww = j * sw - padL + kw;
            if (ww < 0 || ww >= w) continue;
            const xp = x + b4(((b * h + hh) * w + ww) * ci);
            for (let c = 0; c < ci; c++) {
              const xs = load<f32>(xp + b4(c));
              const xv = f32x4.splat(xs);
              const op = out + <usize>((kh * fw + kw) * ci + c) * coBytes;
              let k = 0;
              for (; k + 4 <= co; k += 4) {
                const o = b4(k);
                v128.store(
                  op + o,
                  f32x4.add(v128.load(op + o), f32x4.mul(xv, v128.load(dyRow + o))),
                );
              }
              for (; k < co; k++) {
                const o = b4(k);
                store<f32>(op + o, load<f32>(op + o) + xs * load<f32>(dyRow + o));
              }
            }
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Batched matrix product (BatchMatMul with batch > 1: attention's Q·Kᵀ and A·V and their
// gradients). The stock tfjs wasm kernel runs a naive loop for batch > 1 (≈3 GFLOP/s);
// XNNPACK serves only the 2-D case.
//
// out[t] = A[t] · B[t] for t < batch, A[t]: [m, k], B[t]: [k, n], out[t]: [m, n], all
// row-major float32; A[t] starts at a + t·strideA elements (strideA = 0 broadcasts one A),
// likewise B. Register tile: 4 rows × 8 columns (8 f32x4 accumulators), k innermost;
// remainders by 4×4, 1×8, 1×4 and scalar tiles. out is overwritten (k = 0 writes zeros).

function mmTile4x8(a: usize, b: usize, o: usize, k: i32, lda: usize, ldb: usize, ldo: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let pa = a;
  let pb = b;
  for (let p = 0; p < k; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a0 = f32x4.splat(load<f32>(pa));
    const a1 = f32x4.splat(load<f32>(pa + lda));
    const a2 = f32x4.splat(load<f32>(pa + 2 * lda));
    const a3 = f32x4.splat(load<f32>(pa + 3 * lda));
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    pa += 4;
    pb += ldb;
  }
  v128.store(o, c00);
  v128.store(o, c01, 16);
  v128.store(o + ldo, c10);
  v128.store(o + ldo, c11, 16);
  v128.store(o + 2 * ldo, c20);
  v128.store(o + 2 * ldo, c21, 16);
  v128.store(o + 3 * ldo, c30);
  v128.store(o + 3 * ldo, c31, 16);
}

function mmTile4x4(a: usize, b: usize, o: usize, k: i32, lda: usize, ldb: usize, ldo: usize): void {
  let c0 = f32x4.splat(0);
  let c1 = f32x4.splat(0);
  let c2 = f32x4.splat(0);
  let c3 = f32x4.splat(0);
  let pa = a;
  let pb = b;
  for (let p = 0; p < k; p++) {
    const b0 = v128.load(pb);
    c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(pa)), b0));
    c1 = f32x4.add(c1, f32x4.mul(f32x4.splat(load<f32>(pa + lda)), b0));
    c2 = f32x4.add(c2, f32x4.mul(f32x4.splat(load<f32>(pa + 2 * lda)), b0));
    c3 = f32x4.add(c3, f32x4.mul(f32x4.splat(load<f32>(pa + 3 * lda)), b0));
    pa += 4;
    pb += ldb;
  }
  v128.store(o, c0);
  v128.store(o + ldo, c1);
  v128.store(o + 2 * ldo, c2);
  v128.store(o + 3 * ldo, c3);
}

// Rows [r0, r1) × columns [j0, n) by 1×8, 1×4 and scalar tiles.
function mmRows(
  a: usize,
  b: usize,
  o: usize,
  r0: i32,
  r1: i32,
  j0: i32,
  k: i32,
  n: i32,
  lda: usize,
  ldb: usize,
  ldo: usize,
): void {
  for (let i = r0; i < r1; i++) {
    const ar = a + <usize>i * lda;
    const or = o + <usize>i * ldo;
    let j = j0;
    for (; j + 8 <= n; j += 8) {
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let pb = b + b4(j);
      for (let p = 0; p < k; p++) {
        const av = f32x4.splat(load<f32>(ar + b4(p)));
        c0 = f32x4.add(c0, f32x4.mul(av, v128.load(pb)));
        c1 = f32x4.add(c1, f32x4.mul(av, v128.load(pb, 16)));
        pb += ldb;
      }
      v128.store(or + b4(j), c0);
      v128.store(or + b4(j), c1, 16);
    }
    for (; j + 4 <= n; j += 4) {
      let c0 = f32x4.splat(0);
      let pb = b + b4(j);
      for (let p = 0; p < k; p++) {
        c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(ar + b4(p))), v128.load(pb)));
        pb += ldb;
      }
      v128.store(or + b4(j), c0);
    }
    for (; j < n; j++) {
      let c: f32 = 0;
      let pb = b + b4(j);
      for (let p = 0; p < k; p++) {
        c += load<f32>(ar + b4(p)) * load<f32>(pb);
        pb += ldb;
      }
      store<f32>(or + b4(j), c);
    }
  }
}

/**
 * Batched float32 matrix product, untransposed operands (see the section comment):
 * out[t, i, j] = Σ_p a[t·strideA + i·k + p] · b[t·strideB + p·n + j].
 */
export function batchMatMulF32(
  a: usize,
  b: usize,
  out: usize,
  batch: i32,
  m: i32,
  k: i32,
  n: i32,
  strideA: i32,
  strideB: i32,
): void {
  const lda = b4(k);
  const ldb = b4(n);
  const ldo = b4(n);
  const m4 = m & ~3;
  const n8 = n & ~7;
  const n4 = n & ~3;
  for (let t = 0; t < batch; t++) {
    const at = a + <usize>t * b4(strideA);
    const bt = b + <usize>t * b4(strideB);
    const ot = out + <usize>t * <usize>m * ldo;
    for (let i = 0; i < m4; i += 4) {
      const ai = at + <usize>i * lda;
      const oi = ot + <usize>i * ldo;
      for (let j = 0; j < n8; j += 8) mmTile4x8(ai, bt + b4(j), oi + b4(j), k, lda, ldb, ldo);
      if (n4 > n8) mmTile4x4(ai, bt + b4(n8), oi + b4(n8), k, lda, ldb, ldo);
      if (n > n4) mmRows(at, bt, ot, i, i + 4, n4, k, n, lda, ldb, ldo);
    }
    if (m > m4) mmRows(at, bt, ot, m4, m, 0, k, n, lda, ldb, ldo);
  }
}

// ---------------------------------------------------------------------------------------
// Transpose of the last two axes of 4-byte elements (float32 or int32: the bits are moved,
// not interpreted): out[t, c, r] = x[t, r, c] for x: [batch, rows, cols]. The stock kernel
// walks the output element by element (measured ≈ 60 M elements/s on [8192, 512]); here
// 32×32 tiles are moved as 4×4 blocks transposed in registers (f32x4 shuffles), with scalar
// code for the ragged edges.

function transposeBlock4(src: usize, dst: usize, srcRow: usize, dstRow: usize): void {
  const r0 = v128.load(src);
  const r1 = v128.load(src + srcRow);
  const r2 = v128.load(src + 2 * srcRow);
  const r3 = v128.load(src + 3 * srcRow);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + dstRow, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * dstRow, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * dstRow, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/** out[t, c, r] = x[t, r, c] for 4-byte elements; x: [batch, rows, cols]. */
export function transposeLast2B32(x: usize, out: usize, batch: i32, rows: i32, cols: i32): void {
  const srcRow = b4(cols);
  const dstRow = b4(rows);
  const plane = <usize>rows * srcRow;
  for (let t = 0; t < batch; t++) {
    const xs = x + <usize>t * plane;
    const os = out + <usize>t * plane;
    for (let r0 = 0; r0 < rows; r0 += 32) {
      const r1 = imin(rows, r0 + 32);
      const r4 = r0 + ((r1 - r0) & ~3);
      for (let c0 = 0; c0 < cols; c0 += 32) {
        const c1 = imin(cols, c0 + 32);
        const c4 = c0 + ((c1 - c0) & ~3);
        for (let r = r0; r < r4; r += 4) {
          for (let c = c0; c < c4; c += 4) {
            transposeBlock4(
              xs + <usize>r * srcRow + b4(c),
              os + <usize>c * dstRow + b4(r),
              srcRow,
              dstRow,
            );
          }
          for (let c = c4; c < c1; c++) {
            for (let rr = r; rr < r + 4; rr++) {
              store<u32>(
                os + <usize>c * dstRow + b4(rr),
                load<u32>(xs + <usize>rr * srcRow + b4(c)),
              );
            }
          }
        }
        for (let r = r4; r < r1; r++) {
          for (let c = c0; c < c1; c++) {
            store<u32>(os + <usize>c * dstRow + b4(r), load<u32>(xs + <usize>r * srcRow + b4(c)));
          }
        }
      }
    }
  }
}
