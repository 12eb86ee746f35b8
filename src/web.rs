//! The wasm-bindgen surface that www/worker.js talks to (wasm32 only). It stays narrow: a few
//! functions taking and returning strings and small structs; the message protocol between the page
//! and the worker lives in www/protocol.js.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Installs the panic hook (once). A panic message goes to the console (console_error_panic_hook)
/// and to the host's `globalThis.cnnLabPanic(message)` when the host defines one: the worker does,
/// and forwards it to the page. With `panic = "abort"` the wasm instance traps right after the hook,
/// and a trap inside an async task would otherwise leave the page waiting forever.
#[wasm_bindgen]
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            console_error_panic_hook::hook(info);
            forward_panic_to_host(&info.to_string());
        }));
    });
}

fn forward_panic_to_host(message: &str) {
    let host = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("cnnLabPanic"));
    if let Ok(Some(report)) = host.map(|f| f.dyn_into::<js_sys::Function>().ok()) {
        let _ = report.call1(&JsValue::NULL, &JsValue::from_str(message));
    }
}

/// Panics with `message`. The page sends it only when asked to (`index.html#panic-test`), to show
/// and test that a Rust panic reaches the page as a readable error.
#[wasm_bindgen]
pub fn panic_for_test(message: &str) {
    panic!("{message}");
}

/// Which compute backend the engine will use, as the page shows it.
#[wasm_bindgen(getter_with_clone)]
pub struct BackendReport {
    /// True when a WebGPU adapter was found.
    pub webgpu: bool,
    /// The adapter's description, or the one-line reason why there is none.
    pub description: String,
}

/// Asks for a WebGPU adapter (through wgpu) and reports what was found.
#[wasm_bindgen]
pub async fn probe_backend() -> BackendReport {
    match probe().await {
        Ok(description) => BackendReport {
            webgpu: true,
            description,
        },
        Err(description) => BackendReport {
            webgpu: false,
            description,
        },
    }
}

/// `Ok(adapter description)` or `Err(why there is no adapter)`.
pub async fn probe() -> Result<String, String> {
    #[cfg(feature = "webgpu")]
    {
        let adapter = request_adapter().await?;
        Ok(describe(&adapter.get_info(), &browser_adapter_info().await))
    }
    #[cfg(not(feature = "webgpu"))]
    {
        Err("this build of the engine was made without the `webgpu` feature".into())
    }
}

/// The adapter the engine computes on, or the one-line reason why there is none.
#[cfg(feature = "webgpu")]
pub async fn request_adapter() -> Result<wgpu::Adapter, String> {
    // BROWSER_WEBGPU only: the wasm build has no WebGL backend (wgpu's "webgl" feature is off).
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::BROWSER_WEBGPU,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let options = wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    };
    instance.request_adapter(&options).await.map_err(|_| {
        if navigator_gpu().is_some() {
            "the browser has WebGPU but offers no adapter (GPU blocklisted, or WebGPU disabled)"
                .to_string()
        } else {
            "this browser does not offer WebGPU (navigator.gpu is missing)".to_string()
        }
    })
}

/// `navigator.gpu`, in a window or in a worker, when the browser defines it.
pub fn navigator_gpu() -> Option<JsValue> {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let gpu = js_sys::Reflect::get(&navigator, &"gpu".into()).ok()?;
    (!gpu.is_undefined() && !gpu.is_null()).then_some(gpu)
}

/// The browser's own `GPUAdapterInfo` (vendor, architecture, ...), straight from
/// `navigator.gpu.requestAdapter()`: wgpu keeps only its description. `None` without an adapter.
pub async fn browser_adapter_info() -> Option<JsValue> {
    let gpu = navigator_gpu()?;
    let request: js_sys::Function = js_sys::Reflect::get(&gpu, &"requestAdapter".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: js_sys::Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    if adapter.is_null() || adapter.is_undefined() {
        return None;
    }
    js_sys::Reflect::get(&adapter, &"info".into()).ok()
}

/// One line: "<description>, vendor <v>, architecture <a> (<backend>)", skipping empty fields.
#[cfg(feature = "webgpu")]
fn describe(info: &wgpu::AdapterInfo, browser: &Option<JsValue>) -> String {
    let field = |name: &str| {
        let value = browser.as_ref()?;
        let text = js_sys::Reflect::get(value, &name.into())
            .ok()?
            .as_string()?;
        (!text.is_empty()).then_some(text)
    };
    let mut parts = Vec::new();
    if !info.name.is_empty() {
        parts.push(info.name.clone());
    }
    if let Some(vendor) = field("vendor") {
        parts.push(format!("vendor {vendor}"));
    }
    if let Some(architecture) = field("architecture") {
        parts.push(format!("architecture {architecture}"));
    }
    if parts.is_empty() {
        parts.push("unnamed adapter".into());
    }
    format!("{} ({:?})", parts.join(", "), info.backend)
}

// ---------------------------------------------------------------------------------------------
// The engine surface: data, model slots, training step by step, inference. www/worker.js calls one
// of these at a time (a slot is taken out of the table while its call runs, possibly awaiting the
// GPU); results are plain JS objects and Float32Arrays in the protocol's shapes.

use crate::data::augment::Augment;
use crate::data::mnist::Mnist;
use crate::data::unit;
use crate::nn::engine::{Device, Engine, ModelSpec, TrainRequest};
use crate::nn::{LayerSpec, OptimizerConfig};
use crate::ops::Act;
use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

thread_local! {
    static DATA: RefCell<Option<Rc<Mnist>>> = const { RefCell::new(None) };
    static SLOTS: RefCell<HashMap<String, Engine>> = RefCell::new(HashMap::new());
    /// Reused by `shard_step` and `apply_shards` (no allocation per step).
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

type Res<T> = Result<T, JsError>;

fn data() -> Res<Rc<Mnist>> {
    DATA.with(|d| d.borrow().clone())
        .ok_or_else(|| JsError::new("the digits are not loaded yet (loadData)"))
}

fn take(slot: &str) -> Res<Engine> {
    SLOTS
        .with(|s| s.borrow_mut().remove(slot))
        .ok_or_else(|| JsError::new(&format!("no model in slot {slot:?}: create it first")))
}

fn put(slot: String, engine: Engine) {
    SLOTS.with(|s| s.borrow_mut().insert(slot, engine));
}

/// Runs `f` on the slot's engine and puts the engine back, also when `f` fails.
async fn with_slot<R>(
    slot: String,
    f: impl AsyncFnOnce(&mut Engine) -> Result<R, String>,
) -> Res<R> {
    let mut engine = take(&slot)?;
    // A GPU lost since the last call: continue on the CPU (the next training slice says so).
    let out = match engine.recover() {
        Ok(()) => f(&mut engine).await,
        Err(m) => Err(m),
    };
    put(slot, engine);
    out.map_err(|m| JsError::new(&m))
}

fn obj(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &JsValue::from_str(k), v).expect("setting a field of a new object");
    }
    o.into()
}

fn f32s(v: &[f32]) -> JsValue {
    Float32Array::from(v).into()
}

fn field(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn num(v: &JsValue, key: &str) -> Option<f64> {
    field(v, key).as_f64()
}

/// A whole number >= 0 from a field; `default` when absent.
fn count(v: &JsValue, key: &str, default: Option<usize>) -> Res<usize> {
    match num(v, key) {
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x < 1e9 => Ok(x as usize),
        Some(x) => Err(JsError::new(&format!(
            "{key}: {x} is not a whole number >= 0"
        ))),
        None => default.ok_or_else(|| JsError::new(&format!("{key} is missing"))),
    }
}

/// Parses the bundled digits (assets/mnist-10k.bin, fetched by the worker).
#[wasm_bindgen]
pub fn load_data(bytes: &[u8]) -> Res<JsValue> {
    let mnist = Mnist::parse(bytes).map_err(|e| JsError::new(&format!("{e:?}")))?;
    let sizes = obj(&[
        ("train", mnist.train().len().into()),
        ("test", mnist.test().len().into()),
    ]);
    DATA.with(|d| *d.borrow_mut() = Some(Rc::new(mnist)));
    Ok(sizes)
}

/// Replaces the digits with the user's own IDX files (MNIST's standard format); models created
/// from now on use them. `{ train, test }` sizes.
#[wasm_bindgen]
pub fn load_idx(
    train_images: &[u8],
    train_labels: &[u8],
    test_images: &[u8],
    test_labels: &[u8],
) -> Res<JsValue> {
    let mnist = crate::nn::engine::idx_digits(train_images, train_labels, test_images, test_labels)
        .map_err(|m| JsError::new(&m))?;
    let sizes = obj(&[
        ("train", mnist.train().len().into()),
        ("test", mnist.test().len().into()),
        ("rows", mnist.data.rows.into()),
        ("cols", mnist.data.cols.into()),
    ]);
    DATA.with(|d| *d.borrow_mut() = Some(Rc::new(mnist)));
    Ok(sizes)
}

/// `{ images, labels }` of held-out digits `indices`.
#[wasm_bindgen]
pub fn test_images(indices: Vec<u32>) -> Res<JsValue> {
    let data = data()?;
    let test = data.test();
    let mut images = Vec::with_capacity(indices.len() * 784);
    let mut labels = Vec::with_capacity(indices.len());
    for &i in &indices {
        let i = i as usize;
        if i >= test.len() {
            return Err(JsError::new(&format!(
                "test digit {i}: there are {}",
                test.len()
            )));
        }
        images.extend(test.bytes(i).iter().map(|&b| unit(b)));
        labels.push(test.labels[i]);
    }
    Ok(obj(&[
        ("images", f32s(&images)),
        ("labels", Uint8Array::from(&labels[..]).into()),
    ]))
}

fn parse_spec(spec: &JsValue) -> Res<ModelSpec> {
    let kind = field(spec, "kind").as_string().unwrap_or_default();
    let latent = || count(spec, "latent", None);
    Ok(match kind.as_str() {
        "cnn" => {
            let layers = Array::from(&field(spec, "layers"));
            let parsed: Res<Vec<LayerSpec>> = layers.iter().map(|l| parse_layer(&l)).collect();
            ModelSpec::Cnn(parsed?)
        }
        "plain" | "resnet" => ModelSpec::Deep {
            depth: count(spec, "depth", None)?,
            skip: kind == "resnet",
        },
        "ae" => ModelSpec::Ae { latent: latent()? },
        "convae" => ModelSpec::ConvAe { latent: latent()? },
        "vae" => ModelSpec::Vae {
            latent: latent()?,
            hidden: count(spec, "hidden", Some(256))?,
            beta: num(spec, "beta").unwrap_or(1.0) as f32,
        },
        other => return Err(JsError::new(&format!("unknown model kind {other:?}"))),
    })
}

fn parse_layer(l: &JsValue) -> Res<LayerSpec> {
    let ty = field(l, "type").as_string().unwrap_or_default();
    let n = |key: &str, default: Option<usize>| count(l, key, default);
    Ok(match ty.as_str() {
        "conv" => LayerSpec::Conv {
            filters: n("filters", None)?,
            k: n("k", None)?,
            stride: n("stride", Some(1))?,
            pad: n("pad", Some(0))?,
            bias: true,
        },
        "pool" => {
            let (k, stride) = (n("k", Some(2))?, n("stride", Some(2))?);
            match field(l, "mode").as_string().as_deref() {
                Some("avg") => LayerSpec::AvgPool { k, stride },
                _ => LayerSpec::MaxPool { k, stride },
            }
        }
        "relu" => LayerSpec::Activation(Act::Relu),
        "dense" => LayerSpec::Dense {
            units: n("units", None)?,
        },
        "flatten" => LayerSpec::Flatten,
        other => return Err(JsError::new(&format!("unknown layer type {other:?}"))),
    })
}

/// Builds a model in `slot` (replacing what was there) on WebGPU when `gpu` and a device can be
/// had, on the CPU otherwise. `{ summary, totalParams, backend, note? }`.
#[wasm_bindgen]
pub async fn create_model(slot: String, spec: JsValue, seed: f64, gpu: bool) -> Res<JsValue> {
    let spec = parse_spec(&spec)?;
    let data = data()?;
    let (device, note) = device(gpu).await;
    let mut engine =
        Engine::new(device, &spec, seed as u64, &data).map_err(|m| JsError::new(&m))?;
    engine.set_clock(|| js_sys::Date::now() / 1000.0);
    let rows = engine.summary();
    let total: usize = rows.iter().map(|r| r.params).sum();
    let summary: Array = rows
        .iter()
        .map(|r| {
            let shape: Array = r.out_shape.iter().map(|&d| JsValue::from(d)).collect();
            obj(&[
                ("name", r.name.as_str().into()),
                ("outShape", shape.into()),
                ("params", r.params.into()),
            ])
        })
        .collect();
    let backend = engine.backend();
    put(slot, engine);
    Ok(obj(&[
        ("summary", summary.into()),
        ("totalParams", total.into()),
        ("backend", backend.into()),
        ("note", note.map_or(JsValue::UNDEFINED, |n| n.into())),
    ]))
}

/// The device for a new model, and why it is the CPU when WebGPU was asked for.
async fn device(gpu: bool) -> (Device, Option<String>) {
    if !gpu {
        return (Device::Cpu, None);
    }
    #[cfg(feature = "webgpu")]
    {
        match crate::backend::gpu::Gpu::new().await {
            Ok(g) => (Device::Gpu(g), None),
            Err(why) => (Device::Cpu, Some(format!("on the CPU: {why}"))),
        }
    }
    #[cfg(not(feature = "webgpu"))]
    (Device::Cpu, Some("on the CPU: built without WebGPU".into()))
}

fn parse_train(t: &JsValue) -> Res<TrainRequest> {
    let lr = num(t, "lr").unwrap_or(0.002) as f32;
    if !(lr.is_finite() && lr > 0.0) {
        return Err(JsError::new(&format!(
            "learning rate {lr}: use a number > 0"
        )));
    }
    let optimizer = match field(t, "optimizer").as_string().as_deref() {
        Some("sgd") => OptimizerConfig::sgd(lr, 0.9),
        _ => OptimizerConfig::adam(lr),
    };
    let classes = match field(t, "classes") {
        c if c.is_undefined() || c.is_null() => None,
        c => Some(
            Array::from(&c)
                .iter()
                .map(|d| {
                    d.as_f64()
                        .filter(|d| (0.0..10.0).contains(d))
                        .map(|d| d as u8)
                })
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| JsError::new("classes: digits 0 to 9 expected"))?,
        ),
    };
    Ok(TrainRequest {
        epochs: count(t, "epochs", Some(1))?,
        batch: count(t, "batch", Some(32))?,
        optimizer,
        train_size: num(t, "trainSize")
            .map(|_| count(t, "trainSize", None))
            .transpose()?,
        test_size: num(t, "testSize")
            .map(|_| count(t, "testSize", None))
            .transpose()?,
        classes,
        augment: parse_augment(&field(t, "augment"), &field(t, "noise"))?,
    })
}

/// The page's `augment` ({rotate: degrees, shift: px, zoom: fraction, flip, contrast: fraction})
/// and `noise` ({type, level}); None when both leave the digits untouched.
fn parse_augment(a: &JsValue, noise: &JsValue) -> Res<Option<Augment>> {
    let mut aug = Augment::default();
    if a.is_object() {
        let f = |key: &str| num(a, key).unwrap_or(0.0).abs() as f32;
        aug.max_rotate_deg = f("rotate");
        aug.max_shift = f("shift");
        let (zoom, contrast) = (f("zoom").min(0.9), f("contrast").min(0.9));
        aug.zoom = (1.0 - zoom, 1.0 + zoom);
        aug.contrast = (1.0 - contrast, 1.0 + contrast);
        aug.flip_prob = if field(a, "flip").is_truthy() {
            0.5
        } else {
            0.0
        };
    }
    if noise.is_object() {
        let level = num(noise, "level").unwrap_or(0.0) as f32;
        if !(0.0..=1.0).contains(&level) {
            return Err(JsError::new(&format!("noise level {level}: use 0 to 1")));
        }
        match field(noise, "type").as_string().as_deref() {
            Some("gaussian") => aug.noise_sigma = level,
            Some("saltpepper") => aug.salt_pepper = level,
            Some("mask") => aug.mask_prob = level,
            other => return Err(JsError::new(&format!("unknown noise type {other:?}"))),
        }
    }
    Ok((aug != Augment::default()).then_some(aug))
}

/// Starts a run on the slot's model; `{ stepsPerEpoch, fromStep, fromEpoch }`. With
/// `request.resumeFrom` (a checkpoint's bytes, `checkpoint_model`) the run continues the one saved
/// there, for `request.epochs` more epochs; `fromStep` and `fromEpoch` are what it had done.
#[wasm_bindgen]
pub async fn begin_train(slot: String, request: JsValue) -> Res<JsValue> {
    let req = parse_train(&request)?;
    let data = data()?;
    let from = field(&request, "resumeFrom");
    let (steps, from_step, from_epoch) = if from.is_undefined() || from.is_null() {
        let steps = with_slot(slot, async |e| e.begin(&req, &data).await).await?;
        (steps, 0, 0)
    } else {
        let bytes = from
            .dyn_into::<Uint8Array>()
            .map_err(|_| JsError::new("resumeFrom: expected a checkpoint's bytes (Uint8Array)"))?
            .to_vec();
        with_slot(slot, async |e| e.resume(&req, &data, &bytes).await).await?
    };
    Ok(obj(&[
        ("stepsPerEpoch", steps.into()),
        ("fromStep", (from_step as f64).into()),
        ("fromEpoch", from_epoch.into()),
    ]))
}

/// Trains for about `budget_ms` (at least one step), stopping early at the end of an epoch, with
/// one readback of the metrics at the end. `{ done, epochEnded, progress?, lost? }`; progress as
/// the protocol's event, without slot and ETA (losses and accuracy of the slice's last step);
/// `lost: { reason, step, message }` when the GPU was lost and the run moved to the CPU.
#[wasm_bindgen]
pub async fn train_steps(slot: String, budget_ms: f64) -> Res<JsValue> {
    with_slot(slot, async |e| {
        let slice = e.train_slice(budget_ms / 1000.0).await?;
        // the cursor is back at the start of the order: an epoch just ended
        let ended = slice
            .progress
            .as_ref()
            .is_some_and(|p| p.epoch_progress == 0.0);
        let progress = slice
            .progress
            .as_ref()
            .map_or(JsValue::UNDEFINED, progress_obj);
        let lost = slice.lost.as_ref().map_or(JsValue::UNDEFINED, |l| {
            obj(&[
                ("reason", l.reason.as_str().into()),
                ("step", (l.step as f64).into()),
                ("message", l.message().into()),
            ])
        });
        Ok(obj(&[
            ("done", slice.progress.is_none().into()),
            ("epochEnded", ended.into()),
            ("progress", progress),
            ("lost", lost),
        ]))
    })
    .await
}

/// Test and development hook: destroys the GPU device of the slot's model (`device.destroy()`),
/// as a driver reset would, so that tests can watch the run move to the CPU.
#[wasm_bindgen]
pub async fn lose_gpu_for_test(slot: String) -> Res<()> {
    let mut e = take(&slot)?;
    let out = e.destroy_gpu_for_test().await;
    put(slot, e);
    out.map_err(|m| JsError::new(&m))
}

/// A step's progress as the protocol's event has it, without slot and ETA.
fn progress_obj(p: &crate::nn::Progress) -> JsValue {
    let losses = Object::new();
    Reflect::set(&losses, &"loss".into(), &p.loss.into()).unwrap();
    for (name, v) in &p.losses {
        Reflect::set(&losses, &(*name).into(), &(*v).into()).unwrap();
    }
    obj(&[
        ("step", (p.step as f64).into()),
        ("epoch", p.epoch.into()),
        ("losses", losses.into()),
        (
            "accuracy",
            p.accuracy.map_or(JsValue::UNDEFINED, |a| a.into()),
        ),
        ("imagesPerSec", p.images_per_s.into()),
    ])
}

// Data-parallel training on the CPU (www/threads.js; src/nn/train/parallel.rs explains it): one
// replica of the model per worker, all created with the same seed and run request. Per step each
// calls `shard_step` (its record goes into `out`, typically a view of a SharedArrayBuffer), waits
// for the others, then calls `apply_shards` with all records.

/// Floats in one replica's record.
#[wasm_bindgen]
pub fn shard_record_len(slot: String) -> Res<usize> {
    let mut e = take(&slot)?;
    let len = e.shard_record_len();
    put(slot, e);
    len.map_err(|m| JsError::new(&m))
}

/// Forward and backward pass of replica `part` of `parts` on its shard of the next batch; writes
/// its record into `out`. `false` once the run has done its epochs.
#[wasm_bindgen]
pub fn shard_step(slot: String, part: usize, parts: usize, out: &Float32Array) -> Res<bool> {
    let mut e = take(&slot)?;
    let more = SCRATCH.with_borrow_mut(|rec| {
        rec.resize(out.length() as usize, 0.0);
        let more = e.shard_step(part, parts, rec);
        if more == Ok(true) {
            out.copy_from(rec);
        }
        more
    });
    put(slot, e);
    more.map_err(|m| JsError::new(&m))
}

/// Applies the step from every replica's record (`parts` records, one after the other); the
/// progress as `train_steps` reports it.
#[wasm_bindgen]
pub async fn apply_shards(slot: String, records: Float32Array, parts: usize) -> Res<JsValue> {
    let mut all = SCRATCH.take();
    all.resize(records.length() as usize, 0.0);
    records.copy_to(&mut all);
    let p = with_slot(slot, async |e| e.apply_shards(&all, parts).await).await;
    SCRATCH.set(all);
    let p = p?;
    Ok(progress_obj(&p))
}

/// Ends the slot's run (finished or stopped) and frees its training data.
#[wasm_bindgen]
pub fn end_train(slot: String) -> Res<()> {
    let mut e = take(&slot)?;
    e.end();
    put(slot, e);
    Ok(())
}

/// The held-out metrics of the protocol's `epoch` event: `{ loss, accuracy? , mse?, elbo? }`.
#[wasm_bindgen]
pub async fn test_metrics(slot: String) -> Res<JsValue> {
    with_slot(slot, async |e| {
        let ev = e.test_metrics().await;
        let term = |name: &str| ev.losses.iter().find(|l| l.0 == name).map(|l| l.1);
        let opt = |v: Option<f32>| v.map_or(JsValue::UNDEFINED, |v| v.into());
        let elbo = term("recon").zip(term("kl")).map(|(r, k)| -(r + k));
        Ok(obj(&[
            ("loss", ev.loss.into()),
            ("accuracy", opt(ev.accuracy)),
            ("mse", opt(term("mse"))),
            ("recon", opt(term("recon"))),
            ("kl", opt(term("kl"))),
            ("elbo", opt(elbo)),
        ]))
    })
    .await
}

/// `{ accuracy, confusion: Int32Array(100), misclassified: [{index, label, pred}] }`; with
/// `transform` {rotate, shift} on randomly moved held-out digits.
#[wasm_bindgen]
pub async fn evaluate(slot: String, transform: JsValue) -> Res<JsValue> {
    let moved = transform.is_object().then(|| {
        (
            num(&transform, "rotate").unwrap_or(0.0) as f32,
            num(&transform, "shift").unwrap_or(0.0) as f32,
        )
    });
    let r = with_slot(slot, async |e| e.test_report(moved).await).await?;
    let wrong: Array = r
        .misclassified
        .iter()
        .map(|&(index, label, pred)| {
            obj(&[
                ("index", index.into()),
                ("label", label.into()),
                ("pred", pred.into()),
            ])
        })
        .collect();
    Ok(obj(&[
        ("accuracy", r.accuracy.into()),
        (
            "confusion",
            js_sys::Int32Array::from(&r.confusion[..]).into(),
        ),
        ("misclassified", wrong.into()),
    ]))
}

#[wasm_bindgen]
pub async fn predict(slot: String, image: Vec<f32>) -> Res<Vec<f32>> {
    with_slot(slot, async |e| e.predict(&image).await).await
}

#[wasm_bindgen]
pub async fn reconstruct(slot: String, images: Vec<f32>) -> Res<Vec<f32>> {
    with_slot(slot, async |e| e.reconstruct(&images).await).await
}

/// `{ z }`, and for a VAE also `{ mu, logvar }` (z is mu).
#[wasm_bindgen]
pub async fn encode(slot: String, images: Vec<f32>) -> Res<JsValue> {
    let (z, logvar) = with_slot(slot, async |e| e.encode(&images).await).await?;
    Ok(match logvar {
        Some(lv) => obj(&[("z", f32s(&z)), ("mu", f32s(&z)), ("logvar", f32s(&lv))]),
        None => obj(&[("z", f32s(&z))]),
    })
}

#[wasm_bindgen]
pub async fn decode(slot: String, z: Vec<f32>) -> Res<Vec<f32>> {
    with_slot(slot, async |e| e.decode(&z).await).await
}

#[wasm_bindgen]
pub async fn sample(slot: String, count: u32, seed: f64) -> Res<Vec<f32>> {
    with_slot(slot, async |e| e.sample(count as usize, seed as u64).await).await
}

/// The slot's model as safetensors bytes.
#[wasm_bindgen]
pub async fn export_model(slot: String) -> Res<Vec<u8>> {
    with_slot(slot, async |e| Ok(e.export().await)).await
}

/// The slot's run as a checkpoint: the model file plus the optimizer state and the run's position
/// (src/io/state.rs), for `begin_train`'s `resumeFrom`; `import_model` reads its weights.
#[wasm_bindgen]
pub async fn checkpoint_model(slot: String) -> Res<Vec<u8>> {
    with_slot(slot, async |e| Ok(e.checkpoint().await)).await
}

/// Loads safetensors bytes into the slot's model, or fails with a message and changes nothing.
#[wasm_bindgen]
pub async fn import_model(slot: String, bytes: Vec<u8>) -> Res<()> {
    with_slot(slot, async |e| e.import(&bytes)).await
}

/// `[{ name, shape, data }]`, one per top-level layer.
#[wasm_bindgen]
pub async fn activations(slot: String, image: Vec<f32>) -> Res<JsValue> {
    let outs = with_slot(slot, async |e| e.activations(&image).await).await?;
    let layers: Array = outs
        .iter()
        .map(|o| {
            let (c, h, w) = o.dims;
            let shape: Array = if h == 1 && w == 1 {
                vec![c]
            } else {
                vec![c, h, w]
            }
            .into_iter()
            .map(JsValue::from)
            .collect();
            obj(&[
                ("name", o.layer.as_str().into()),
                ("shape", shape.into()),
                ("data", f32s(&o.values)),
            ])
        })
        .collect();
    Ok(layers.into())
}

/// `{ shape: [o, c, kh, kw], data }` of the first convolution.
#[wasm_bindgen]
pub async fn filters(slot: String) -> Res<JsValue> {
    let (shape, data) = with_slot(slot, async |e| e.filters().await).await?;
    let shape: Array = shape.into_iter().map(JsValue::from).collect();
    Ok(obj(&[("shape", shape.into()), ("data", f32s(&data))]))
}

/// `[{ name, norm }]`: the last step's gradient norm of each layer with parameters.
#[wasm_bindgen]
pub async fn grad_norms(slot: String) -> Res<JsValue> {
    let norms = with_slot(slot, async |e| Ok(e.grad_norms().await)).await?;
    let layers: Array = norms
        .iter()
        .map(|(name, norm)| obj(&[("name", name.as_str().into()), ("norm", (*norm).into())]))
        .collect();
    Ok(layers.into())
}
