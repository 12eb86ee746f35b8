//! Launches of the tiled GEMM kernels: dense layers (`wgsl/dense.wgsl`) and convolutions as
//! implicit GEMMs (`wgsl/conv_*.wgsl`), all on the core in `wgsl/gemm_core.wgsl`.

use super::pipelines::Module;
use super::{Gpu, GpuBuf};
use crate::ops::Conv2dGeom;

/// K slice of the GEMM core's inner loop (split-K spans are multiples of it).
const SLICE: usize = 16;
/// Split-K aims for this many workgroups in flight...
const TARGET_GROUPS: usize = 128;
/// ...but gives each split at least this much of K.
const MIN_SPAN: usize = 512;

impl Gpu {
    /// Workgroups covering C [m, n] with the device's GEMM tiles.
    fn gemm_groups(&self, m: usize, n: usize) -> [u32; 3] {
        let tile = self.tiles.tile();
        [n.div_ceil(tile) as u32, m.div_ceil(tile) as u32, 1]
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn dense_fwd(
        &self,
        x: &GpuBuf,
        w: &GpuBuf,
        b: &GpuBuf,
        y: &GpuBuf,
        n: usize,
        i: usize,
        o: usize,
    ) {
        // A = x [n, i], B(k, col) = w[col, k]: strides (m, k) = (i, 1), (k, n) = (1, i).
        let p = [n, o, i, i, 1, 1, i, 1].map(|v| v as u32);
        self.run(
            Module::Dense,
            "gemm",
            &p,
            &[x, w, y, b],
            self.gemm_groups(n, o),
        );
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn dense_bwd(
        &self,
        x: &GpuBuf,
        w: &GpuBuf,
        dy: &GpuBuf,
        dx: Option<&GpuBuf>,
        dw: &GpuBuf,
        db: &GpuBuf,
        n: usize,
        i: usize,
        o: usize,
    ) {
        let d = &self.dummy[0];
        if let Some(dx) = dx {
            // dx [n, i] = dy [n, o] . w [o, i]
            let p = [n, i, o, o, 1, i, 1, 0].map(|v| v as u32);
            self.run(
                Module::Dense,
                "gemm",
                &p,
                &[dy, w, dx, d],
                self.gemm_groups(n, i),
            );
        }
        // dw [o, i] = dy^T . x: A(m, k) = dy[k * o + m]
        let p = [o, i, n, 1, o, i, 1, 0].map(|v| v as u32);
        self.run(
            Module::Dense,
            "gemm",
            &p,
            &[dy, x, dw, d],
            self.gemm_groups(o, i),
        );
        self.channel_sum(dy, db, n, o, 1);
    }

    fn conv_params(g: &Conv2dGeom, bias: bool, gemm: [usize; 3], k_span: usize) -> [u32; 16] {
        [
            g.n,
            g.in_c,
            g.in_h,
            g.in_w,
            g.out_c,
            g.out_h(),
            g.out_w(),
            g.kh,
            g.kw,
            g.stride,
            g.pad,
            bias as usize,
            gemm[0],
            gemm[1],
            gemm[2],
            k_span,
        ]
        .map(|v| v as u32)
    }

    /// y [n, oc, oh, ow] = conv(x, w) (+ b): M = oc, N = n * oh * ow, K = ic * kh * kw.
    pub(super) fn conv_fwd(
        &self,
        g: &Conv2dGeom,
        x: &GpuBuf,
        w: &GpuBuf,
        b: Option<&GpuBuf>,
        y: &GpuBuf,
    ) {
        let (m, n) = (g.out_c, g.n * g.out_h() * g.out_w());
        let k = g.in_c * g.kh * g.kw;
        let p = Self::conv_params(g, b.is_some(), [m, n, k], k);
        let b = b.unwrap_or(&self.dummy[0]);
        self.run(
            Module::ConvFwd,
            "gemm",
            &p,
            &[x, w, y, b],
            self.gemm_groups(m, n),
        );
    }

    /// dx [n, ic, ih, iw] from dy [n, oc, oh, ow] (+ b on ic, for the transposed conv):
    /// M = ic, N = n * ih * iw, K = oc * kh * kw.
    pub(super) fn conv_dx(
        &self,
        g: &Conv2dGeom,
        w: &GpuBuf,
        dy: &GpuBuf,
        b: Option<&GpuBuf>,
        dx: &GpuBuf,
    ) {
        let (m, n) = (g.in_c, g.n * g.in_h * g.in_w);
        let k = g.out_c * g.kh * g.kw;
        let p = Self::conv_params(g, b.is_some(), [m, n, k], k);
        let [d0, d1] = &self.dummy;
        let b = b.unwrap_or(d1);
        let bufs = [d0, w, dy, dx, b];
        self.run(Module::ConvDx, "gemm", &p, &bufs, self.gemm_groups(m, n));
    }

    /// dw [oc, ic, kh, kw] = dy . im2col(x)^T: M = oc, N = ic * kh * kw, K = n * oh * ow.
    /// C is small and K long, so K is split over workgroups into a pooled scratch buffer, then summed.
    pub(super) fn conv_dw(&self, g: &Conv2dGeom, x: &GpuBuf, dy: &GpuBuf, dw: &GpuBuf) {
        let (m, n, k) = (g.out_c, g.in_c * g.kh * g.kw, g.n * g.out_h() * g.out_w());
        let [gx, gy, _] = self.gemm_groups(m, n);
        let max_splits = self.limits.max_compute_workgroups_per_dimension as usize;
        let splits = (TARGET_GROUPS / (gx * gy) as usize)
            .min(k / MIN_SPAN)
            .clamp(1, max_splits);
        let span = k.div_ceil(splits).next_multiple_of(SLICE);
        let splits = k.div_ceil(span);
        let p = Self::conv_params(g, false, [m, n, k], span);
        if splits == 1 {
            self.run(Module::ConvDw, "gemm", &p, &[x, dy, dw], [gx, gy, 1]);
            return;
        }
        let partial = GpuBuf::new(&self.pool, &self.device, splits * m * n);
        self.run(
            Module::ConvDw,
            "gemm",
            &p,
            &[x, dy, &partial],
            [gx, gy, splits as u32],
        );
        self.ew("split_sum", m * n, splits as u32, [0.0; 2], &[&partial, dw]);
    }
}
