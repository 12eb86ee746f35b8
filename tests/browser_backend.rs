//! In-browser tests of the backend probe and of WebGPU compute, run by wasm-bindgen-test-runner in
//! a dedicated worker of headless Chromium (where the engine runs in the lab). scripts/test.sh runs
//! them twice: with SwiftShader's WebGPU adapter and without WebGPU. A GPU test that finds no
//! adapter prints "SKIPPED: no WebGPU adapter" and returns; the script counts those lines and fails
//! the WebGPU run if any appear.
#![cfg(all(target_arch = "wasm32", feature = "webgpu"))]

use cnn_lab::web;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use wgpu::util::DeviceExt;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// The probe agrees with the browser itself (`navigator.gpu.requestAdapter()` called directly):
/// an adapter there means a described WebGPU adapter here, none there means a reason here.
#[wasm_bindgen_test]
async fn probe_agrees_with_the_browser() {
    let browser_info = web::browser_adapter_info().await;
    match (browser_info, web::probe().await) {
        (Some(info), Ok(description)) => {
            assert!(description.ends_with("(BrowserWebGpu)"), "{description}");
            let vendor = js_sys::Reflect::get(&info, &"vendor".into()).unwrap();
            let vendor = vendor.as_string().unwrap();
            if !vendor.is_empty() {
                assert!(
                    description.contains(&format!("vendor {vendor}")),
                    "{description}"
                );
            }
            console_log!("PROBE: WebGPU adapter: {description}");
        }
        (None, Err(reason)) => {
            assert!(reason.len() > 20, "a one-line reason, got {reason:?}");
            assert!(!reason.contains('\n'), "{reason}");
            console_log!("PROBE: no WebGPU adapter: {reason}");
        }
        (info, probe) => {
            panic!("the browser's adapter info is {info:?} but the probe says {probe:?}")
        }
    }
}

/// The JS-facing report carries the same answer as `probe`.
#[wasm_bindgen_test]
async fn probe_backend_reports_the_probe() {
    let report = web::probe_backend().await;
    match web::probe().await {
        Ok(description) => assert!(report.webgpu && report.description == description),
        Err(reason) => assert!(!report.webgpu && report.description == reason),
    }
}

const DOUBLE_PLUS_ONE: &str = "
@group(0) @binding(0) var<storage, read_write> data: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x < arrayLength(&data)) {
        data[id.x] = 2.0 * data[id.x] + 1.0;
    }
}
";

/// A GPU test: a WGSL kernel runs on the adapter and its result is read back with an awaited
/// map_async (a browser thread must never block on the GPU), then checked against the CPU.
#[wasm_bindgen_test]
async fn a_wgsl_kernel_runs_and_reads_back() {
    let adapter = match web::request_adapter().await {
        Ok(adapter) => adapter,
        Err(reason) => {
            console_log!(
                "SKIPPED: no WebGPU adapter (a_wgsl_kernel_runs_and_reads_back): {reason}"
            );
            return;
        }
    };
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor::default())
        .await
        .expect("an adapter that the browser offers grants a device");

    let input: Vec<f32> = (0..1000).map(|i| i as f32 * 0.25 - 100.0).collect();
    let bytes = bytemuck_f32(&input);
    let storage = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("data"),
        contents: &bytes,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
    });
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: bytes.len() as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("double_plus_one"),
        source: wgpu::ShaderSource::Wgsl(DOUBLE_PLUS_ONE.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("double_plus_one"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: storage.as_entire_binding(),
        }],
    });

    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(input.len().div_ceil(64) as u32, 1, 1);
    }
    encoder.copy_buffer_to_buffer(&storage, 0, &readback, 0, bytes.len() as u64);
    queue.submit([encoder.finish()]);

    // In the browser map_async completes through a JS promise; await it instead of polling.
    let mut resolve = None;
    let mapped = js_sys::Promise::new(&mut |ok, _| resolve = Some(ok));
    let resolve = resolve.unwrap();
    readback
        .slice(..)
        .map_async(wgpu::MapMode::Read, move |result| {
            let _ = resolve.call1(&JsValue::NULL, &JsValue::from_bool(result.is_ok()));
        });
    let ok = JsFuture::from(mapped).await.unwrap();
    assert_eq!(ok, JsValue::TRUE, "map_async failed");

    let output: Vec<f32> = readback
        .slice(..)
        .get_mapped_range()
        .expect("the buffer is mapped")
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let expected: Vec<f32> = input.iter().map(|x| 2.0 * x + 1.0).collect();
    assert_eq!(output, expected); // exact: 2x + 1 of these values is representable in f32
    console_log!(
        "GPU: WGSL kernel matched the CPU on {} values",
        output.len()
    );
}

fn bytemuck_f32(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
