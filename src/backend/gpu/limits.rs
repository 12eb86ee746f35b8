//! What the kernels need from a device, and the workgroup sizes chosen to fit what it offers.
//! The WGSL files use two sizes the host sets per device (prepended as constants):
//! - `WG`, the threads of a 1-D workgroup (element-wise ops, reductions' trees): the largest power
//!   of two up to 256 that the device allows;
//! - `TH`, the side of the GEMM core's TH x TH workgroup (a 4 TH x 4 TH tile of C, 2 x 16 x 4 TH
//!   floats of workgroup memory): 16 where WebGPU's default limits hold, 8 on smaller devices.
//!
//! A device too small for the smallest choice is refused with a message naming the limit.

use super::pipelines::MAX_ARITY;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tiles {
    pub wg: u32,
    pub th: u32,
}

/// The smallest 1-D workgroup the reductions are written for.
const MIN_WG: u32 = 32;

impl Tiles {
    /// Rows and columns of C one GEMM workgroup computes.
    pub fn tile(&self) -> usize {
        4 * self.th as usize
    }

    /// The WGSL constants for these sizes.
    pub fn wgsl(&self) -> String {
        format!(
            "const WG: u32 = {}u;\nconst TH: u32 = {}u;\n",
            self.wg, self.th
        )
    }

    pub fn fit(l: &wgpu::Limits) -> Result<Tiles, String> {
        let refuse = |name: &str, have: u32, want: u32| {
            format!("GPU too limited: {name} = {have}, the kernels need at least {want}")
        };
        if l.max_storage_buffers_per_shader_stage < MAX_ARITY as u32 {
            let have = l.max_storage_buffers_per_shader_stage;
            return Err(refuse(
                "max_storage_buffers_per_shader_stage",
                have,
                MAX_ARITY as u32,
            ));
        }
        let one_d = [
            (
                "max_compute_invocations_per_workgroup",
                l.max_compute_invocations_per_workgroup,
            ),
            (
                "max_compute_workgroup_size_x",
                l.max_compute_workgroup_size_x,
            ),
            // the reduction tree keeps one float per thread
            (
                "max_compute_workgroup_storage_size / 4",
                l.max_compute_workgroup_storage_size / 4,
            ),
        ];
        let (name, least) = one_d.into_iter().min_by_key(|c| c.1).unwrap();
        if least < MIN_WG {
            return Err(refuse(name, least, MIN_WG));
        }
        let wg = 1 << (least.min(256).ilog2());
        let gemm_fits = |th: u32| -> Result<(), String> {
            let need = [
                (
                    "max_compute_invocations_per_workgroup",
                    l.max_compute_invocations_per_workgroup,
                    th * th,
                ),
                (
                    "max_compute_workgroup_size_x",
                    l.max_compute_workgroup_size_x,
                    th,
                ),
                (
                    "max_compute_workgroup_size_y",
                    l.max_compute_workgroup_size_y,
                    th,
                ),
                (
                    "max_compute_workgroup_storage_size",
                    l.max_compute_workgroup_storage_size,
                    2 * 16 * 4 * th * 4,
                ),
            ];
            match need.into_iter().find(|n| n.1 < n.2) {
                Some((name, have, want)) => Err(refuse(name, have, want)),
                None => Ok(()),
            }
        };
        let th = match gemm_fits(16) {
            Ok(()) => 16,
            Err(_) => gemm_fits(8).map(|()| 8)?,
        };
        Ok(Tiles { wg, th })
    }
}

/// The limits to request: the adapter's, with the compute and buffer limits lowered to `cap`'s
/// where given (tests ask for deliberately small devices).
pub(crate) fn request(adapter: &wgpu::Limits, cap: Option<&wgpu::Limits>) -> wgpu::Limits {
    let mut l = adapter.clone();
    if let Some(c) = cap {
        l.max_compute_invocations_per_workgroup = l
            .max_compute_invocations_per_workgroup
            .min(c.max_compute_invocations_per_workgroup);
        l.max_compute_workgroup_size_x = l
            .max_compute_workgroup_size_x
            .min(c.max_compute_workgroup_size_x);
        l.max_compute_workgroup_size_y = l
            .max_compute_workgroup_size_y
            .min(c.max_compute_workgroup_size_y);
        l.max_compute_workgroup_storage_size = l
            .max_compute_workgroup_storage_size
            .min(c.max_compute_workgroup_storage_size);
        l.max_storage_buffer_binding_size = l
            .max_storage_buffer_binding_size
            .min(c.max_storage_buffer_binding_size);
        l.max_buffer_size = l.max_buffer_size.min(c.max_buffer_size);
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(invocations: u32, storage: u32) -> wgpu::Limits {
        wgpu::Limits {
            max_compute_invocations_per_workgroup: invocations,
            max_compute_workgroup_storage_size: storage,
            ..wgpu::Limits::default()
        }
    }

    #[test]
    fn sizes_follow_the_limits() {
        let t = |i, s| Tiles::fit(&limits(i, s));
        assert_eq!(t(256, 16384), Ok(Tiles { wg: 256, th: 16 }));
        assert_eq!(t(1024, 32768), Ok(Tiles { wg: 256, th: 16 }));
        assert_eq!(t(64, 16384), Ok(Tiles { wg: 64, th: 8 }));
        assert_eq!(t(256, 4096), Ok(Tiles { wg: 256, th: 8 }));
        assert_eq!(t(100, 16384), Ok(Tiles { wg: 64, th: 8 }));
        let too_small = t(16, 16384).unwrap_err();
        assert!(
            too_small.contains("max_compute_invocations_per_workgroup = 16"),
            "{too_small}"
        );
        let no_room = t(256, 2048).unwrap_err();
        assert!(
            no_room.contains("max_compute_workgroup_storage_size = 2048"),
            "{no_room}"
        );
    }
}
