//! GPU buffers and the pool that recycles them, so a training loop allocates nothing after its
//! first step and GPU memory stays at the high-water mark of one step.
//!
//! A dropped [`GpuBuf`] is not reusable at once: work recorded earlier in the current command
//! encoder may still read it. It is *retired* and only becomes free after the next submit, when
//! every later use is ordered after that work by the queue.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A storage buffer with the id the bind-group cache keys on (stable while the pool recycles it).
pub(crate) struct Raw {
    pub id: u64,
    pub buffer: wgpu::Buffer,
}

#[derive(Default)]
pub(crate) struct Pool {
    next_id: u64,
    free: HashMap<u64, Vec<Raw>>,
    retired: Vec<(u64, Raw)>,
    staging_free: HashMap<u64, Vec<wgpu::Buffer>>,
    /// Bytes of all storage and staging buffers ever created (they are never destroyed).
    pub allocated_bytes: u64,
}

/// Capacity in bytes of the bucket holding `len` floats: a multiple of 64 floats, never empty
/// (a zero-sized buffer cannot be bound).
fn bucket_bytes(len: usize) -> u64 {
    (len.max(1).next_multiple_of(64) * 4) as u64
}

impl Pool {
    fn take(&mut self, device: &wgpu::Device, bytes: u64) -> Raw {
        if let Some(raw) = self.free.get_mut(&bytes).and_then(Vec::pop) {
            return raw;
        }
        self.next_id += 1;
        self.allocated_bytes += bytes;
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("cnn-lab tensor"),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Raw {
            id: self.next_id,
            buffer,
        }
    }

    /// Makes everything retired before the submit that just happened reusable.
    pub fn recycle(&mut self) {
        for (bytes, raw) in self.retired.drain(..) {
            self.free.entry(bytes).or_default().push(raw);
        }
    }

    /// Destroys the free buffers (the engine calls this between models: a new model's sizes
    /// would not reuse them). Buffers in use, and retired ones, are kept.
    pub fn trim(&mut self) {
        for (bytes, raws) in self.free.drain() {
            self.allocated_bytes -= bytes * raws.len() as u64;
            raws.iter().for_each(|r| r.buffer.destroy());
        }
        for (bytes, bufs) in self.staging_free.drain() {
            self.allocated_bytes -= bytes * bufs.len() as u64;
            bufs.iter().for_each(wgpu::Buffer::destroy);
        }
    }

    /// A MAP_READ buffer of at least `bytes` for one readback; give it back with `return_staging`.
    pub fn take_staging(&mut self, device: &wgpu::Device, bytes: u64) -> wgpu::Buffer {
        let bytes = bytes.next_multiple_of(256);
        if let Some(b) = self.staging_free.get_mut(&bytes).and_then(Vec::pop) {
            return b;
        }
        self.allocated_bytes += bytes;
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("cnn-lab readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    pub fn return_staging(&mut self, buffer: wgpu::Buffer) {
        self.staging_free
            .entry(buffer.size())
            .or_default()
            .push(buffer);
    }
}

/// The `Buf` of the GPU backend: `len` f32 on the device, in a pooled buffer of at least that size.
pub struct GpuBuf {
    raw: Option<Raw>,
    len: usize,
    bytes: u64,
    pool: Rc<RefCell<Pool>>,
}

impl GpuBuf {
    pub(crate) fn new(pool: &Rc<RefCell<Pool>>, device: &wgpu::Device, len: usize) -> GpuBuf {
        let bytes = bucket_bytes(len);
        let raw = pool.borrow_mut().take(device, bytes);
        GpuBuf {
            raw: Some(raw),
            len,
            bytes,
            pool: Rc::clone(pool),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn raw(&self) -> &Raw {
        self.raw.as_ref().expect("buffer present until drop")
    }

    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        &self.raw().buffer
    }
}

impl Drop for GpuBuf {
    fn drop(&mut self) {
        if let Some(raw) = self.raw.take() {
            self.pool.borrow_mut().retired.push((self.bytes, raw));
        }
    }
}
