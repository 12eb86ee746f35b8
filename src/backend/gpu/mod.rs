//! The wgpu implementation of [`Backend`](crate::backend::Backend): WebGPU in the browser,
//! Vulkan/Metal/DX12 natively (lavapipe in CI). Every op is a WGSL compute kernel in `wgsl/`,
//! tested against the CPU backend by `tests/gpu_parity.rs`.
//!
//! How the pieces fit:
//! - tensors are [`GpuBuf`]s from a pool (`pool.rs`); they stay on the device for the whole run;
//! - ops are recorded into one command encoder (`recorder.rs`) and submitted once per training
//!   step by `Backend::flush` (and by `read`, which must see the results);
//! - the way back to the host is `Backend::read`, which awaits map_async (`oneshot.rs`), or
//!   [`Gpu::read_later`], which nobody awaits (the engine's snapshots, `readback.rs`);
//! - workgroup sizes are chosen from the device's limits (`limits.rs`);
//! - a lost device is recorded ([`Gpu::is_lost`]) so the engine can fall back to the CPU.

mod backend_impl;
mod elementwise;
mod limits;
mod loss;
mod matmul;
mod norm;
mod oneshot;
mod pipelines;
mod pool;
mod pool2d;
mod readback;
mod recorder;

pub use pool::GpuBuf;
pub use readback::{Polled, Readback};

use limits::Tiles;
use pipelines::Module;
use pool::Pool;
use recorder::Recorder;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    name: String,
    limits: wgpu::Limits,
    /// Workgroup sizes chosen for `limits`.
    tiles: Tiles,
    pool: Rc<RefCell<Pool>>,
    rec: RefCell<Recorder>,
    /// Bound to binding slots an entry point declares but does not read (two, because one buffer
    /// may not fill two slots of a dispatch).
    dummy: [GpuBuf; 2],
    lost: Arc<AtomicBool>,
    /// Why the device was lost, and uncaptured errors (validation, out-of-memory), for the page.
    errors: Arc<Mutex<Vec<String>>>,
}

impl Gpu {
    /// Requests an adapter (the browser's WebGPU on wasm; any native backend otherwise) and a device
    /// with the adapter's own limits. Errors say why there is no GPU, for the page to show.
    pub async fn new() -> Result<Gpu, String> {
        Gpu::with_limits(None).await
    }

    /// As `new`, with the compute and buffer limits lowered to `cap`'s (tests run the kernels on
    /// deliberately small devices this way). The kernels' workgroup sizes are chosen from the limits
    /// the device was given; a device too small for them is refused, naming the limit.
    pub async fn with_limits(cap: Option<wgpu::Limits>) -> Result<Gpu, String> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("no GPU adapter: {e}"))?;
        let wanted = limits::request(&adapter.limits(), cap.as_ref());
        Tiles::fit(&wanted)?;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("cnn-lab"),
                required_limits: wanted,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("the GPU adapter gave no device: {e}"))?;
        // What the device was given (a browser may round requests up to its defaults).
        let limits = device.limits();
        let tiles = Tiles::fit(&limits)?;
        let info = adapter.get_info();
        let name = format!("{} ({:?})", info.name, info.backend);

        let lost = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let (l, e) = (Arc::clone(&lost), Arc::clone(&errors));
        device.set_device_lost_callback(move |reason, msg| {
            l.store(true, Ordering::SeqCst);
            e.lock()
                .unwrap()
                .push(format!("device lost: {reason:?}: {msg}"));
        });
        let e = Arc::clone(&errors);
        device.on_uncaptured_error(Arc::new(move |err: wgpu::Error| {
            e.lock().unwrap().push(err.to_string());
        }));

        let pool = Rc::new(RefCell::new(Pool::default()));
        let rec = Recorder::new(
            &device,
            &queue,
            limits.min_uniform_buffer_offset_alignment,
            tiles,
        );
        let dummy = [0, 1].map(|_| GpuBuf::new(&pool, &device, 1));
        Ok(Gpu {
            device,
            queue,
            name,
            limits,
            tiles,
            pool,
            rec: RefCell::new(rec),
            dummy,
            lost,
            errors,
        })
    }

    /// True once the device is gone (driver reset, tab backgrounded too long, `destroy`): the
    /// engine then continues on the CPU from the last weights it read back.
    pub fn is_lost(&self) -> bool {
        #[cfg(not(target_arch = "wasm32"))]
        let _ = self.device.poll(wgpu::PollType::Poll);
        self.lost.load(Ordering::SeqCst)
    }

    /// Test and development hook: destroys the device, as a driver reset would, to exercise the
    /// engine's CPU fallback.
    pub fn destroy_device(&self) {
        self.device.destroy();
    }

    /// Why the device was lost, as the browser or driver said it (None while it is not).
    pub fn lost_reason(&self) -> Option<String> {
        if !self.is_lost() {
            return None;
        }
        let errors = self.errors();
        let lost = errors.iter().find_map(|e| e.strip_prefix("device lost: "));
        Some(lost.or(errors.first().map(|e| e.as_str())).map_or_else(
            || "a readback from the GPU failed: the device is gone".to_string(),
            |e| e.trim_end_matches([' ', ':']).to_string(),
        ))
    }

    /// Device-lost messages and uncaptured GPU errors so far (empty in a healthy run).
    pub fn errors(&self) -> Vec<String> {
        self.errors.lock().unwrap().clone()
    }

    /// The device's limits, which the kernels were sized against.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// Threads of the 1-D kernels' workgroups, and the side of the GEMM workgroup, as chosen for
    /// this device's limits.
    pub fn workgroup_sizes(&self) -> (u32, u32) {
        (self.tiles.wg, self.tiles.th)
    }

    /// Bytes of GPU buffers created so far (the pool's high-water mark: flat across steps).
    pub fn allocated_bytes(&self) -> u64 {
        self.pool.borrow().allocated_bytes
    }

    /// Frees the pool's idle buffers (between models; a training loop never needs it).
    pub fn trim(&self) {
        self.submit();
        self.rec.borrow_mut().clear_bind_groups();
        self.pool.borrow_mut().trim();
    }

    /// Command-buffer submissions so far.
    pub fn submits(&self) -> u64 {
        self.rec.borrow().submits
    }

    fn submit(&self) {
        self.rec.borrow_mut().submit();
        self.pool.borrow_mut().recycle();
    }

    /// Records one kernel launch (see `Recorder::dispatch`).
    fn run(
        &self,
        module: Module,
        entry: &'static str,
        params: &[u32],
        bufs: &[&GpuBuf],
        groups: [u32; 3],
    ) {
        if groups.contains(&0) {
            return;
        }
        let max = self.limits.max_compute_workgroups_per_dimension;
        assert!(
            groups.iter().all(|&g| g <= max),
            "{entry}: {groups:?} workgroups exceed the adapter's {max} per dimension"
        );
        if self.rec.borrow().full() {
            self.submit();
        }
        // WebGPU rejects a dispatch that binds one buffer twice when a binding is writable (ours all
        // are), so a buffer passed as two inputs (`add(x, x, y)`) is bound once and copied once.
        let dup = |i: usize| bufs[..i].iter().any(|p| p.raw().id == bufs[i].raw().id);
        let copies: Vec<(usize, GpuBuf)> = (0..bufs.len())
            .filter(|&i| dup(i))
            .map(|i| (i, self.copy_of(bufs[i])))
            .collect();
        let mut bound = bufs.to_vec();
        for (i, c) in &copies {
            bound[*i] = c;
        }
        self.rec
            .borrow_mut()
            .dispatch(module, entry, params, &bound, groups);
    }

    /// A pooled copy of `src`, recorded in order (retired when dropped, so live until the submit).
    fn copy_of(&self, src: &GpuBuf) -> GpuBuf {
        let copy = GpuBuf::new(&self.pool, &self.device, src.len());
        if !src.is_empty() {
            let bytes = src.len() as u64 * 4;
            self.rec.borrow_mut().encoder().copy_buffer_to_buffer(
                src.buffer(),
                0,
                copy.buffer(),
                0,
                bytes,
            );
        }
        copy
    }

    /// Workgroups for `threads` threads of a 1-D kernel, folded into a 2-D grid when one dimension
    /// would exceed the adapter's limit; returns the grid and the threads per grid row.
    fn grid(&self, threads: usize) -> ([u32; 3], u32) {
        let wg = self.tiles.wg;
        let groups = threads.div_ceil(wg as usize) as u32;
        let max = self.limits.max_compute_workgroups_per_dimension;
        if groups <= max {
            ([groups, 1, 1], groups * wg)
        } else {
            ([max, groups.div_ceil(max), 1], max * wg)
        }
    }

    /// Launches a kernel whose `Params` start with (len, row), one thread per element.
    fn per_element(
        &self,
        module: Module,
        entry: &'static str,
        len: usize,
        extra: &[u32],
        bufs: &[&GpuBuf],
    ) {
        let (groups, row) = self.grid(len);
        let mut params = vec![len as u32, row];
        params.extend_from_slice(extra);
        self.run(module, entry, &params, bufs, groups);
    }

    fn check_len(&self, buf: &GpuBuf) {
        let bytes = buf.buffer().size();
        let l = &self.limits;
        let limit = [
            (
                "max_storage_buffer_binding_size",
                l.max_storage_buffer_binding_size,
            ),
            ("max_buffer_size", l.max_buffer_size),
        ];
        for (name, max) in limit {
            assert!(
                bytes <= max,
                "a tensor of {} floats ({bytes} bytes) exceeds the GPU's {name} ({max} bytes): \
                 use a smaller batch or model, or the CPU",
                buf.len(),
            );
        }
    }
}

fn to_bytes(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn bits(x: f32) -> u32 {
    x.to_bits()
}
