//! Records ops into one command encoder and submits them together ([`Recorder::submit`], called by
//! `Backend::flush` once per training step, and before anything the host must see in order).
//!
//! Op parameters (sizes, scalars) go into 256-byte slots of one uniform buffer, written with a
//! single `write_buffer` at submit time and bound with dynamic offsets, so an op allocates no GPU
//! memory. Bind groups are cached by the ids of the buffers they bind: a training loop reuses the
//! same (pooled) buffers every step, so after the first step every bind group is a cache hit.

use super::limits::Tiles;
use super::pipelines::{Module, Pipelines, MAX_ARITY};
use super::pool::GpuBuf;
use std::collections::HashMap;

/// Bytes the parameter block of one op may use (every WGSL `Params` struct fits).
const SLOT_BYTES: u64 = 256;
/// Ops per submission before the recorder submits early to reuse the parameter buffer.
const SLOTS: u64 = 2048;
/// The bind-group cache is cleared when it grows past this (only random-shape tests get there).
const MAX_BIND_GROUPS: usize = 4096;

type BindKey = (usize, [u64; MAX_ARITY]);

pub(crate) struct Recorder {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pub pipelines: Pipelines,
    encoder: Option<wgpu::CommandEncoder>,
    /// Host copy of this submission's parameter slots, `slot_words` u32 per slot.
    params: Vec<u32>,
    slot_stride: u64,
    params_buf: wgpu::Buffer,
    bind_groups: HashMap<BindKey, wgpu::BindGroup>,
    /// Submissions so far (tests use it to check "one submit per step").
    pub submits: u64,
}

impl Recorder {
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        uniform_align: u32,
        tiles: Tiles,
    ) -> Recorder {
        let slot_stride = SLOT_BYTES.max(uniform_align as u64);
        let params_buf = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("cnn-lab op params"),
            size: slot_stride * SLOTS,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Recorder {
            device: device.clone(),
            queue: queue.clone(),
            pipelines: Pipelines::new(device, tiles),
            encoder: None,
            params: Vec::new(),
            slot_stride,
            params_buf,
            bind_groups: HashMap::new(),
            submits: 0,
        }
    }

    pub fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        self.encoder.get_or_insert_with(|| {
            self.device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("cnn-lab step"),
                })
        })
    }

    pub fn has_work(&self) -> bool {
        self.encoder.is_some()
    }

    fn slots_used(&self) -> u64 {
        self.params.len() as u64 * 4 / self.slot_stride
    }

    /// True when the next op needs a submit first (its parameter buffer is full).
    pub fn full(&self) -> bool {
        self.slots_used() == SLOTS
    }

    /// Records one dispatch of `entry` with `params` (u32 words; f32 as bits) on `bufs`
    /// (bindings 1..), `groups` workgroups. The caller submits first when `full()`.
    pub fn dispatch(
        &mut self,
        module: Module,
        entry: &'static str,
        params: &[u32],
        bufs: &[&GpuBuf],
        groups: [u32; 3],
    ) {
        debug_assert!(!self.full() && params.len() * 4 <= SLOT_BYTES as usize);
        let offset = (self.slots_used() * self.slot_stride) as u32;
        self.params.extend_from_slice(params);
        let words = (self.slot_stride / 4) as usize;
        self.params
            .resize(self.params.len() + words - params.len(), 0);

        let pipeline = self.pipelines.get(module, entry, bufs.len());
        let bind_group = self.bind_group(bufs);
        let mut pass = self
            .encoder()
            .begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(entry),
                timestamp_writes: None,
            });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[offset]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
    }

    fn bind_group(&mut self, bufs: &[&GpuBuf]) -> wgpu::BindGroup {
        let mut ids = [0u64; MAX_ARITY];
        for (id, b) in ids.iter_mut().zip(bufs) {
            *id = b.raw().id;
        }
        let key = (bufs.len(), ids);
        if let Some(bg) = self.bind_groups.get(&key) {
            return bg.clone();
        }
        if self.bind_groups.len() >= MAX_BIND_GROUPS {
            self.bind_groups.clear();
        }
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &self.params_buf,
                offset: 0,
                size: wgpu::BufferSize::new(SLOT_BYTES),
            }),
        }];
        entries.extend(bufs.iter().enumerate().map(|(i, b)| wgpu::BindGroupEntry {
            binding: i as u32 + 1,
            resource: b.buffer().as_entire_binding(),
        }));
        let bg = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: self.pipelines.bind_group_layout(bufs.len()),
            entries: &entries,
        });
        self.bind_groups.insert(key, bg.clone());
        bg
    }

    /// Forgets every cached bind group (they keep their buffers alive).
    pub fn clear_bind_groups(&mut self) {
        self.bind_groups.clear();
    }

    /// Submits everything recorded since the last submit (no-op when nothing was).
    pub fn submit(&mut self) {
        let Some(encoder) = self.encoder.take() else {
            return;
        };
        if !self.params.is_empty() {
            let bytes: Vec<u8> = self.params.iter().flat_map(|w| w.to_le_bytes()).collect();
            self.queue.write_buffer(&self.params_buf, 0, &bytes);
            self.params.clear();
        }
        self.queue.submit([encoder.finish()]);
        self.submits += 1;
    }
}
