//! WGSL modules, compiled once each on first use, and their compute pipelines.
//!
//! Every pipeline has the same shape of bind group: binding 0 is a small uniform block of
//! parameters (bound with a dynamic offset into one per-submission parameter buffer), bindings
//! 1..=arity are f32 storage buffers, all declared `read_write` so that any buffer may appear in
//! any slot (and the same buffer twice) without a usage conflict. One layout per arity is shared by
//! all pipelines with that many buffers.

use super::limits::Tiles;
use std::borrow::Cow;
use std::collections::HashMap;

/// Most storage buffers one op binds (batch-norm training); WebGPU guarantees 8 per stage.
pub(crate) const MAX_ARITY: usize = 8;

/// The WGSL source files, one per op family (the GEMM core is shared by dense and convolution).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Module {
    Elementwise,
    Optim,
    Reduce,
    Pool,
    BatchNorm,
    Dense,
    ConvFwd,
    ConvDx,
    ConvDw,
}

const GEMM_CORE: &str = include_str!("wgsl/gemm_core.wgsl");
const CONV_COMMON: &str = include_str!("wgsl/conv_common.wgsl");

impl Module {
    fn source(self) -> Cow<'static, str> {
        let conv = |loaders: &str| Cow::Owned(format!("{CONV_COMMON}\n{loaders}\n{GEMM_CORE}"));
        match self {
            Module::Elementwise => Cow::Borrowed(include_str!("wgsl/elementwise.wgsl")),
            Module::Optim => Cow::Borrowed(include_str!("wgsl/optim.wgsl")),
            Module::Reduce => Cow::Borrowed(include_str!("wgsl/reduce.wgsl")),
            Module::Pool => Cow::Borrowed(include_str!("wgsl/pool.wgsl")),
            Module::BatchNorm => Cow::Borrowed(include_str!("wgsl/batchnorm.wgsl")),
            Module::Dense => {
                Cow::Owned(format!("{}\n{GEMM_CORE}", include_str!("wgsl/dense.wgsl")))
            }
            Module::ConvFwd => conv(include_str!("wgsl/conv_fwd.wgsl")),
            Module::ConvDx => conv(include_str!("wgsl/conv_dx.wgsl")),
            Module::ConvDw => conv(include_str!("wgsl/conv_dw.wgsl")),
        }
    }
}

pub(crate) struct Pipelines {
    device: wgpu::Device,
    tiles: Tiles,
    /// Index `a` holds the layouts for `a` storage buffers (index 0 unused).
    layouts: Vec<(wgpu::BindGroupLayout, wgpu::PipelineLayout)>,
    modules: HashMap<Module, wgpu::ShaderModule>,
    pipelines: HashMap<(Module, &'static str), wgpu::ComputePipeline>,
}

impl Pipelines {
    pub fn new(device: &wgpu::Device, tiles: Tiles) -> Pipelines {
        let layouts = (0..=MAX_ARITY)
            .map(|arity| {
                let mut entries = vec![wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: true,
                        min_binding_size: None,
                    },
                    count: None,
                }];
                entries.extend(
                    (1..=arity as u32).map(|binding| wgpu::BindGroupLayoutEntry {
                        binding,
                        visibility: wgpu::ShaderStages::COMPUTE,
                        ty: wgpu::BindingType::Buffer {
                            ty: wgpu::BufferBindingType::Storage { read_only: false },
                            has_dynamic_offset: false,
                            min_binding_size: None,
                        },
                        count: None,
                    }),
                );
                let bgl = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                    label: Some("cnn-lab op"),
                    entries: &entries,
                });
                let pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                    label: Some("cnn-lab op"),
                    bind_group_layouts: &[Some(&bgl)],
                    immediate_size: 0,
                });
                (bgl, pl)
            })
            .collect();
        Pipelines {
            device: device.clone(),
            tiles,
            layouts,
            modules: HashMap::new(),
            pipelines: HashMap::new(),
        }
    }

    pub fn bind_group_layout(&self, arity: usize) -> &wgpu::BindGroupLayout {
        &self.layouts[arity].0
    }

    /// The pipeline for `entry` of `module` taking `arity` storage buffers (arity is a property of
    /// the entry point; the first call fixes it).
    pub fn get(
        &mut self,
        module: Module,
        entry: &'static str,
        arity: usize,
    ) -> wgpu::ComputePipeline {
        if let Some(p) = self.pipelines.get(&(module, entry)) {
            return p.clone();
        }
        let (device, tiles) = (&self.device, self.tiles);
        let shader = self.modules.entry(module).or_insert_with(|| {
            // The workgroup sizes chosen for this device come first (see `limits.rs`).
            let source = format!("{}{}", tiles.wgsl(), module.source());
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(entry),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            })
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: Some(&self.layouts[arity].1),
            module: shader,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        });
        self.pipelines.insert((module, entry), pipeline.clone());
        pipeline
    }
}
