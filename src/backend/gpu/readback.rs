//! Readbacks that nobody awaits: [`Gpu::read_later`] copies buffers into staging buffers at the
//! current point of the queue, starts map_async on them and returns at once; [`Readback::poll`]
//! later says whether the copies have arrived. The engine snapshots a run this way after its
//! training slices (at most once a second), so a lost device costs at most the steps since, and
//! the GPU is never waited for.

use super::pool::Pool;
use super::{Gpu, GpuBuf};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct Readback {
    /// Natively, to let wgpu run the map callbacks (the browser's event loop does that there).
    #[cfg(not(target_arch = "wasm32"))]
    device: wgpu::Device,
    pool: Rc<RefCell<Pool>>,
    /// (staging buffer, bytes), one per buffer read; `None` for an empty one.
    staging: Vec<Option<(wgpu::Buffer, u64)>>,
    /// Maps still outstanding, and maps that failed (the device is gone).
    pending: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
}

/// What [`Readback::poll`] found.
pub enum Polled {
    Waiting,
    /// The contents, in the order the buffers were given.
    Done(Vec<Vec<f32>>),
    /// A copy never arrived: the device was lost.
    Failed,
}

impl Gpu {
    /// Starts copying back the buffers `visit` hands over (one submission, after everything
    /// recorded so far) without waiting for them.
    pub fn read_later(&self, visit: impl FnOnce(&mut dyn FnMut(&GpuBuf))) -> Readback {
        let pending = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let mut staging = Vec::new();
        visit(&mut |buf: &GpuBuf| {
            let bytes = buf.len() as u64 * 4;
            staging.push((bytes > 0).then(|| {
                let s = self.pool.borrow_mut().take_staging(&self.device, bytes);
                let mut rec = self.rec.borrow_mut();
                rec.encoder()
                    .copy_buffer_to_buffer(buf.buffer(), 0, &s, 0, bytes);
                (s, bytes)
            }));
        });
        self.submit();
        for (s, bytes) in staging.iter().flatten() {
            pending.fetch_add(1, Ordering::SeqCst);
            let (p, f) = (Arc::clone(&pending), Arc::clone(&failed));
            s.slice(..*bytes).map_async(wgpu::MapMode::Read, move |r| {
                if r.is_err() {
                    f.fetch_add(1, Ordering::SeqCst);
                }
                p.fetch_sub(1, Ordering::SeqCst);
            });
        }
        Readback {
            #[cfg(not(target_arch = "wasm32"))]
            device: self.device.clone(),
            pool: Rc::clone(&self.pool),
            staging,
            pending,
            failed,
        }
    }
}

impl Readback {
    /// Never blocks: natively it lets wgpu run finished callbacks (a non-waiting poll); in the
    /// browser the event loop runs them.
    pub fn poll(&mut self) -> Polled {
        #[cfg(not(target_arch = "wasm32"))]
        let _ = self.device.poll(wgpu::PollType::Poll);
        if self.failed.load(Ordering::SeqCst) > 0 {
            return Polled::Failed;
        }
        if self.pending.load(Ordering::SeqCst) > 0 {
            return Polled::Waiting;
        }
        let mut out = Vec::with_capacity(self.staging.len());
        for s in self.staging.drain(..) {
            let Some((buffer, bytes)) = s else {
                out.push(Vec::new());
                continue;
            };
            let data = match buffer.slice(..bytes).get_mapped_range() {
                Ok(view) => view
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
                Err(_) => return Polled::Failed,
            };
            buffer.unmap();
            self.pool.borrow_mut().return_staging(buffer);
            out.push(data);
        }
        Polled::Done(out)
    }
}
