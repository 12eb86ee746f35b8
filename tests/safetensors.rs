//! Model files: the safetensors reader/writer and a model's state <-> named tensors.
//! Round trips, the documented names and layouts, every corrupted-file case with its own error
//! (and the model left untouched), a seeded mutation fuzz loop with an allocation bound, and the
//! Python/numpy round trip (tests/python/, skipped with a message when numpy + safetensors are
//! missing: `tests/python/setup.sh` installs them).
// Native only: blocks on futures with pollster (and, for learning, far too slow for a browser run).
#![cfg(not(target_arch = "wasm32"))]

use cnn_lab::backend::cpu::Cpu;
use cnn_lab::backend::Backend;
use cnn_lab::data::mnist::Mnist;
use cnn_lab::io::safetensors::{self, Dtype, F32Tensor, SafetensorsError, MAX_HEADER};
use cnn_lab::io::state;
use cnn_lab::nn::models::{AutoencoderConfig, ClassifierConfig, VaeConfig};
use cnn_lab::nn::train::owned;
use cnn_lab::nn::{Model, ModelKind, OptimizerConfig, Shape, Tensor, TrainConfig, Trainer};
use cnn_lab::rng::Rng;
use pollster::block_on;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

// ---- allocation meter: the largest single allocation made by the current thread ---------------

struct Meter;
thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}
unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LARGEST.with(|m| m.set(m.get().max(l.size())));
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, size: usize) -> *mut u8 {
        LARGEST.with(|m| m.set(m.get().max(size)));
        System.realloc(p, l, size)
    }
}
#[global_allocator]
static METER: Meter = Meter;

// ---- helpers --------------------------------------------------------------------------------

fn model(kind: &ModelKind, seed: u64) -> Model<Cpu> {
    Model::new(&Cpu::new(), &mut Rng::new(seed), kind)
}

fn reference() -> ModelKind {
    ModelKind::Classifier(ClassifierConfig::reference())
}

fn export(m: &mut Model<Cpu>) -> Vec<u8> {
    block_on(state::export_safetensors(
        &Cpu::new(),
        m,
        &[("source", "test")],
    ))
}

/// Class probabilities of a classifier in evaluation mode.
fn predict(m: &mut Model<Cpu>, images: &[f32]) -> Vec<f32> {
    let be = Cpu::new();
    let n = images.len() / 784;
    let x = Tensor {
        buf: be.upload(images),
        shape: Shape::new(n, 1, 28, 28),
    };
    m.forward(&be, &x, &vec![0.0; n], false);
    let Model::Classifier(c) = m else {
        panic!("a classifier")
    };
    c.probs.clone()
}

fn mnist() -> Mnist {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist-10k.bin");
    Mnist::parse(&std::fs::read(path).expect("bundled MNIST")).expect("valid file")
}

/// A small hand-made file: two tensors, one after the other.
fn two_tensor_file() -> Vec<u8> {
    safetensors::write(
        &[
            F32Tensor {
                name: "a",
                shape: &[2, 2],
                values: &[1.0, 2.0, 3.0, 4.0],
            },
            F32Tensor {
                name: "b",
                shape: &[3],
                values: &[5.0, 6.0, 7.0],
            },
        ],
        &[],
    )
}

/// A file with the given header text and `data_len` zero bytes of data.
fn raw_file(header: &str, data_len: usize) -> Vec<u8> {
    let mut f = (header.len() as u64).to_le_bytes().to_vec();
    f.extend_from_slice(header.as_bytes());
    f.resize(f.len() + data_len, 0);
    f
}

// ---- the format -----------------------------------------------------------------------------

#[test]
fn writer_output_parses_back_aligned_with_metadata() {
    let f = safetensors::write(
        &[F32Tensor {
            name: "x \"quoted\"\n",
            shape: &[1, 3],
            values: &[0.5, -1.0, f32::MIN_POSITIVE],
        }],
        &[("k", "v\\w")],
    );
    let n = u64::from_le_bytes(f[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0, "data is 8-byte aligned");
    assert_eq!(f.len(), 8 + n + 12);
    let st = safetensors::parse(&f).unwrap();
    assert_eq!(st.metadata, vec![("k".to_string(), "v\\w".to_string())]);
    let t = st.get("x \"quoted\"\n").unwrap();
    assert_eq!((t.dtype, t.shape.clone()), (Dtype::F32, vec![1, 3]));
    assert_eq!(t.to_f32().unwrap(), vec![0.5, -1.0, f32::MIN_POSITIVE]);
}

#[test]
fn reads_a_file_written_by_the_reference_python_library() {
    // safetensors.numpy.save({"w": np.arange(6, dtype=np.float32).reshape(2, 3),
    //                         "i": np.array([7], dtype=np.int64)}, metadata={"format": "np"})
    // writes this header (keys sorted, data ordered by dtype alignment then name), padded to 8.
    let header = r#"{"__metadata__":{"format":"np"},"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]}}"#;
    let mut f = raw_file(&format!("{header:<136}"), 0);
    f.extend_from_slice(&7i64.to_le_bytes());
    for v in 0..6 {
        f.extend_from_slice(&(v as f32).to_le_bytes());
    }
    let st = safetensors::parse(&f).unwrap();
    assert_eq!(st.get("i").unwrap().dtype, Dtype::I64);
    assert_eq!(st.get("i").unwrap().to_f32(), None);
    assert_eq!(
        st.get("w").unwrap().to_f32().unwrap(),
        vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
}

#[test]
fn each_malformed_file_has_its_own_error() {
    use SafetensorsError::*;
    let ok = two_tensor_file();
    type Expect = fn(&SafetensorsError) -> bool;
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("empty", vec![], |e| matches!(e, TooShort { len: 0 })),
        ("7 bytes", ok[..7].to_vec(), |e| {
            matches!(e, TooShort { len: 7 })
        }),
        (
            "PNG signature",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            |e| matches!(e, HeaderTooLarge { .. }),
        ),
        ("huge header length", u64::MAX.to_le_bytes().to_vec(), |e| {
            matches!(e, HeaderTooLarge { declared: u64::MAX })
        }),
        (
            "header larger than the file",
            {
                let mut f = (MAX_HEADER).to_le_bytes().to_vec();
                f.extend_from_slice(b"{}");
                f
            },
            |e| {
                matches!(
                    e,
                    HeaderPastEnd {
                        declared: MAX_HEADER,
                        available: 2
                    }
                )
            },
        ),
        ("truncated header", ok[..20].to_vec(), |e| {
            matches!(e, HeaderPastEnd { available: 12, .. })
        }),
        (
            "garbage after a plausible length",
            raw_file("GIF89a..", 0),
            |e| matches!(e, NotSafetensors),
        ),
        (
            "not UTF-8",
            raw_file("{\"\u{ff}\"", 0)
                .iter()
                .map(|&b| if b == 0xc3 { 0xff } else { b })
                .collect(),
            |e| matches!(e, BadUtf8),
        ),
        ("bad JSON", raw_file("{\"a\":}", 0), |e| {
            matches!(e, BadJson { at: 5, .. })
        }),
        ("JSON array", raw_file("[1]", 0), |e| {
            matches!(e, NotSafetensors)
        }),
        (
            "entry without offsets",
            raw_file(r#"{"a":{"dtype":"F32","shape":[1]}}"#, 4),
            |e| matches!(e, BadEntry { .. }),
        ),
        (
            "negative dim",
            raw_file(
                r#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
                4,
            ),
            |e| matches!(e, BadEntry { .. }),
        ),
        (
            "unknown dtype",
            raw_file(
                r#"{"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}"#,
                4,
            ),
            |e| matches!(e, UnknownDtype { .. }),
        ),
        (
            "huge shape",
            raw_file(
                r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#,
                4,
            ),
            |e| matches!(e, HugeShape { .. }),
        ),
        (
            "shape larger than its bytes",
            raw_file(
                r#"{"a":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4]}}"#,
                4,
            ),
            |e| {
                matches!(
                    e,
                    SizeMismatch {
                        needs: 4_000_000_000,
                        has: 4,
                        ..
                    }
                )
            },
        ),
        (
            "offsets past the data",
            raw_file(
                r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551611,18446744073709551615]}}"#,
                4,
            ),
            |e| matches!(e, OutOfRange { .. }),
        ),
        (
            "offsets reversed",
            raw_file(
                r#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#,
                4,
            ),
            |e| matches!(e, BadEntry { .. }),
        ),
        (
            "overlapping",
            raw_file(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                8,
            ),
            |e| matches!(e, Overlap { .. }),
        ),
        (
            "gap",
            raw_file(
                r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                8,
            ),
            |e| matches!(e, Gap { at: 0, .. }),
        ),
        (
            "trailing bytes",
            raw_file(
                r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                8,
            ),
            |e| matches!(e, TrailingBytes { used: 4, buffer: 8 }),
        ),
        ("truncated data", ok[..ok.len() - 1].to_vec(), |e| {
            matches!(e, OutOfRange { .. })
        }),
    ];
    for (what, bytes, expected) in cases {
        let e = safetensors::parse(&bytes).expect_err(what);
        assert!(expected(&e), "{what}: got {e:?}");
        let msg = e.to_string();
        assert!(msg.len() > 20 && !msg.contains("Some("), "{what}: {msg}");
    }
}

// ---- model state ----------------------------------------------------------------------------

#[test]
fn reference_cnn_names_and_layouts_match_pytorch_sequential() {
    let mut m = model(&reference(), 1);
    let names = state::expected(&Cpu::new(), &mut m);
    let want: Vec<(String, Vec<usize>)> = [
        ("0.weight", vec![8, 1, 3, 3]),
        ("0.bias", vec![8]),
        ("3.weight", vec![16, 8, 3, 3]),
        ("3.bias", vec![16]),
        ("7.weight", vec![10, 784]),
        ("7.bias", vec![10]),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), s))
    .collect();
    assert_eq!(names, want);
}

#[test]
fn deep_and_autoencoder_names_cover_every_tensor() {
    let be = Cpu::new();
    let deep = ModelKind::Classifier(ClassifierConfig::deep((1, 28, 28), 8, 2, 1, true));
    let mut m = model(&deep, 1);
    let names: Vec<String> = state::expected(&be, &mut m)
        .into_iter()
        .map(|t| t.0)
        .collect();
    for n in [
        "0.weight",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "3.0.weight",
        "3.1.running_var",
        "3.3.bias",
        "4.0.weight",
        "4.4.weight",
        "4.5.running_mean",
        "7.weight",
    ] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    assert!(!names.contains(&"0.bias".to_string()), "bias-free conv");
    let params: usize = m.param_count();
    let bn_buffers = 2 * (8 + 2 * 8 + 2 * 16 + 16);
    let total: usize = state::expected(&be, &mut m)
        .iter()
        .map(|t| t.1.iter().product::<usize>())
        .sum();
    assert_eq!(total, params + bn_buffers);

    let ae = ModelKind::Autoencoder(AutoencoderConfig::conv((1, 28, 28), 8, 16, 10));
    let n: Vec<String> = state::expected(&be, &mut model(&ae, 1))
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert!(
        n[0].starts_with("encoder.0.") && n.last().unwrap().starts_with("decoder."),
        "{n:?}"
    );
    let vae = ModelKind::Vae(VaeConfig::dense((1, 28, 28), 64, 2));
    let n: Vec<String> = state::expected(&be, &mut model(&vae, 1))
        .into_iter()
        .map(|t| t.0)
        .collect();
    for want in ["mu.weight", "mu.bias", "logvar.weight", "logvar.bias"] {
        assert!(n.contains(&want.to_string()), "{want} in {n:?}");
    }
}

#[test]
fn export_then_import_reproduces_identical_predictions() {
    let data = mnist();
    let images = &data.test().first(16).images();
    let mut a = model(&reference(), 1);
    let mut b = model(&reference(), 2);
    let pa = predict(&mut a, images);
    assert_ne!(pa, predict(&mut b, images), "different seeds differ");
    let file = export(&mut a);
    state::import_safetensors(&Cpu::new(), &mut b, &file).unwrap();
    assert_eq!(predict(&mut b, images), pa, "bit-identical");
    assert_eq!(export(&mut b), file, "re-export is byte-identical");
}

#[test]
fn every_model_kind_round_trips_including_batch_norm_statistics() {
    let be = Cpu::new();
    for kind in [
        ModelKind::Classifier(ClassifierConfig::deep((1, 28, 28), 4, 2, 1, true)),
        ModelKind::Autoencoder(AutoencoderConfig::conv((1, 28, 28), 4, 8, 6)),
        ModelKind::Vae(VaeConfig::dense((1, 28, 28), 32, 2)),
    ] {
        let mut a = model(&kind, 3);
        // give the running statistics values that differ from a fresh model's
        a.visit_buffers(&mut |_, buf| {
            buf.iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = 0.5 + i as f32)
        });
        let file = export(&mut a);
        let mut b = model(&kind, 4);
        state::import_safetensors(&be, &mut b, &file).unwrap();
        assert_eq!(export(&mut b), file, "{kind:?}");
    }
}

#[test]
fn import_resets_the_optimizer_state() {
    let mut m = model(&reference(), 1);
    m.visit_params(&mut |p| p.state = vec![vec![1.0; p.len()]]);
    let file = export(&mut model(&reference(), 2));
    state::import_safetensors(&Cpu::new(), &mut m, &file).unwrap();
    m.visit_params(&mut |p| assert!(p.state.is_empty(), "{}", p.name));
}

/// The reference model's file with one tensor replaced (same name, new shape/values).
fn with_tensor(name: &str, shape: &[usize], values: &[f32]) -> Vec<u8> {
    let tensors = block_on(state::export_tensors(
        &Cpu::new(),
        &mut model(&reference(), 5),
    ));
    let views: Vec<F32Tensor> = tensors
        .iter()
        .map(|t| {
            if t.name == name {
                F32Tensor {
                    name,
                    shape,
                    values,
                }
            } else {
                F32Tensor {
                    name: &t.name,
                    shape: &t.shape,
                    values: &t.values,
                }
            }
        })
        .collect();
    safetensors::write(&views, &[])
}

#[test]
fn rejected_files_leave_the_model_untouched_with_a_clear_message() {
    let be = Cpu::new();
    let good = export(&mut model(&reference(), 5));
    let mut nan = vec![0.1f32; 160];
    nan[7] = f32::NAN;
    let mut inf = vec![0.1f32; 10];
    inf[3] = f32::NEG_INFINITY;
    let deep = export(&mut model(
        &ModelKind::Classifier(ClassifierConfig::deep((1, 28, 28), 8, 1, 1, true)),
        1,
    ));
    let mut extra_tensors = block_on(state::export_tensors(&be, &mut model(&reference(), 5)));
    extra_tensors.push(state::NamedTensor {
        name: "9.weight".into(),
        shape: vec![1],
        values: vec![0.0],
    });
    let extra: Vec<F32Tensor> = extra_tensors
        .iter()
        .map(|t| F32Tensor {
            name: &t.name,
            shape: &t.shape,
            values: &t.values,
        })
        .collect();
    let extra = safetensors::write(&extra, &[]);
    let mut truncated_header = good.clone();
    truncated_header.truncate(40);
    let mut f64_file = raw_file(
        r#"{"0.weight":{"dtype":"F64","shape":[8,1,3,3],"data_offsets":[0,576]}}"#,
        576,
    );
    f64_file.truncate(f64_file.len());

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage",
            b"PK\x03\x04 this is a zip file, not weights".to_vec(),
            "not a safetensors file",
        ),
        (
            "truncated header",
            truncated_header,
            "truncated safetensors file",
        ),
        (
            "truncated data",
            good[..good.len() - 4].to_vec(),
            "truncated file?",
        ),
        (
            "huge header",
            {
                let mut f = good.clone();
                f[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
                f
            },
            "-byte header",
        ),
        ("other architecture", deep, "has no tensor \"0.bias\""),
        (
            "extra tensor",
            extra,
            "\"9.weight\" that the current architecture does not have",
        ),
        (
            "wrong shape",
            with_tensor("3.weight", &[16, 8, 5, 5], &[0.0; 3200]),
            "has shape [16, 8, 5, 5] but the current architecture needs [16, 8, 3, 3]",
        ),
        (
            "transposed dense",
            with_tensor("7.weight", &[784, 10], &[0.0; 7840]),
            "needs [10, 784]",
        ),
        (
            "NaN",
            with_tensor("3.bias", &[16], &nan[..16])
                .into_iter()
                .collect(),
            "holds NaN at index 7",
        ),
        (
            "Inf",
            with_tensor("7.bias", &[10], &inf),
            "holds -inf at index 3",
        ),
        ("float64", f64_file, "is F64; the lab reads float32"),
    ];
    for (what, bytes, needle) in cases {
        let mut m = model(&reference(), 1);
        let before = export(&mut m);
        let e = state::import_safetensors(&be, &mut m, &bytes).expect_err(what);
        let msg = e.to_string();
        assert!(msg.contains(needle), "{what}: {msg}");
        assert_eq!(export(&mut m), before, "{what}: model changed");
    }
}

#[test]
fn pytorch_batch_counters_are_ignored() {
    let kind = ModelKind::Classifier(ClassifierConfig::deep((1, 28, 28), 4, 1, 1, true));
    let tensors = block_on(state::export_tensors(&Cpu::new(), &mut model(&kind, 1)));
    let mut header = String::from("{");
    let mut data = Vec::new();
    for t in &tensors {
        let begin = data.len();
        t.values
            .iter()
            .for_each(|v| data.extend_from_slice(&v.to_le_bytes()));
        header += &format!(
            "\"{}\":{{\"dtype\":\"F32\",\"shape\":{:?},\"data_offsets\":[{begin},{}]}},",
            t.name,
            t.shape,
            data.len()
        );
    }
    let begin = data.len();
    data.extend_from_slice(&3i64.to_le_bytes());
    header += &format!("\"1.num_batches_tracked\":{{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[{begin},{}]}}}}", data.len());
    let mut file = raw_file(&header, 0);
    file.extend_from_slice(&data);
    let mut m = model(&kind, 2);
    state::import_safetensors(&Cpu::new(), &mut m, &file).unwrap();
    assert_eq!(
        block_on(state::export_tensors(&Cpu::new(), &mut m)),
        tensors
    );
}

// ---- fuzzing --------------------------------------------------------------------------------

/// Mutations of a valid model file: byte flips, truncation, insertion, lying lengths and offsets,
/// spliced header text. Nothing may panic, a failed import must leave the model unchanged, and no
/// single allocation may exceed a small multiple of the input (lying sizes are never allocated).
#[test]
fn seeded_mutation_fuzz_never_panics_or_allocates_unboundedly() {
    let be = Cpu::new();
    let good = export(&mut model(&reference(), 7));
    let mut m = model(&reference(), 1);
    let before = export(&mut m);
    let mut rng = Rng::new(2024);
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let tokens: [&[u8]; 12] = [
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"\"",
        b"-1",
        b"18446744073709551616",
        b"1e999",
        b"\\u",
        b"null",
    ];
    let (mut accepted, mut rejected) = (0, 0);
    for case in 0..5000 {
        let mut f = good.clone();
        for _ in 0..1 + rng.below(4) {
            let len = f.len().max(1);
            // most mutations land in the header, where the parser lives
            let at = if rng.below(4) > 0 {
                rng.below(header_len + 8).min(len - 1)
            } else {
                rng.below(len)
            };
            match rng.below(7) {
                0 | 1 if f.is_empty() => {}
                0 => f[at] ^= 1 << rng.below(8),
                1 => f[at] = rng.below(256) as u8,
                2 => f.truncate(at),
                3 => f.insert(at, rng.below(256) as u8),
                4 => {
                    let tok = tokens[rng.below(tokens.len())];
                    f.splice(at..(at + 1).min(f.len()), tok.iter().copied());
                }
                5 => {
                    let lie = [0u64, 1, rng.below(1 << 20) as u64, u64::MAX, 1 << 40][rng.below(5)];
                    if f.len() >= 8 {
                        f[..8].copy_from_slice(&lie.to_le_bytes());
                    }
                }
                _ => {
                    // rewrite a digit in the header (shapes, offsets) into a large number
                    if let Some(p) = f.get(8..(8 + header_len).min(f.len())).and_then(|h| {
                        let ds: Vec<usize> = h
                            .iter()
                            .enumerate()
                            .filter(|(_, b)| b.is_ascii_digit())
                            .map(|(i, _)| i)
                            .collect();
                        (!ds.is_empty()).then(|| 8 + ds[rng.below(ds.len())])
                    }) {
                        f.splice(p..p + 1, b"99999999999".iter().copied());
                    }
                }
            }
        }
        LARGEST.with(|c| c.set(0));
        let result = state::import_safetensors(&be, &mut m, &f);
        let largest = LARGEST.with(|c| c.get());
        assert!(
            largest <= 4 * good.len() + 4096,
            "case {case}: a {largest}-byte allocation for a {}-byte file",
            f.len()
        );
        match result {
            Ok(()) => {
                accepted += 1;
                let now = block_on(state::export_tensors(&be, &mut m));
                assert!(
                    now.iter().all(|t| t.values.iter().all(|v| v.is_finite())),
                    "case {case}"
                );
                state::import_safetensors(&be, &mut m, &before).unwrap();
            }
            Err(e) => {
                rejected += 1;
                assert!(!e.to_string().is_empty());
                assert_eq!(
                    export(&mut m),
                    before,
                    "case {case}: rejected import changed the model"
                );
            }
        }
    }
    println!("fuzz: {accepted} mutated files still valid (e.g. data bytes changed) and accepted, {rejected} rejected");
    assert!(
        rejected > 4000,
        "the mutations reach the checks: {rejected}"
    );
}

#[test]
fn fuzz_the_raw_parser_with_random_bytes() {
    let mut rng = Rng::new(99);
    for _ in 0..3000 {
        let n = rng.below(64);
        let mut f: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
        if n > 8 && rng.below(2) == 0 {
            // a plausible length so that the JSON parser sees the random bytes
            f[..8].copy_from_slice(&((n - 8) as u64).to_le_bytes());
            f[8] = b'{';
        }
        LARGEST.with(|c| c.set(0));
        let _ = safetensors::parse(&f);
        assert!(LARGEST.with(|c| c.get()) <= 4096);
    }
}

// ---- the Python round trip ------------------------------------------------------------------

/// The Python interpreter with numpy + safetensors: $CNN_LAB_PYTHON, the venv that
/// tests/python/setup.sh makes, or python3.
fn python() -> Option<std::path::PathBuf> {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/target/python-venv/bin/python");
    let candidates = [
        std::env::var("CNN_LAB_PYTHON").ok(),
        Some(venv.to_string()),
        Some("python3".to_string()),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(std::path::PathBuf::from)
        .find(|p| {
            std::process::Command::new(p)
                .args(["-c", "import numpy, safetensors"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Trains the reference CNN briefly, exports it with 100 held-out digits and the lab's
/// predictions for them, then runs tests/python/check_export.py, which loads the file with the
/// `safetensors` package, runs its own numpy forward pass and compares.
#[test]
fn python_numpy_forward_pass_reproduces_the_lab_predictions() {
    let data = mnist();
    let train = owned(data.data.slice(0..2000));
    let test = owned(data.test());
    let cfg = TrainConfig {
        batch: 32,
        epochs: 1,
        seed: 3,
        optimizer: OptimizerConfig::adam(2e-3),
    };
    let mut t = Trainer::new(Cpu::new(), &reference(), cfg, train, test);
    while block_on(t.step()).is_some() {}
    let n = 100;
    let images = &data.test().first(n).images();
    let labels = &data.test().labels[..n];
    let probs = block_on(t.predict(images)).expect("classifier");
    let correct = (0..n)
        .filter(|&i| {
            let row = &probs[i * 10..i * 10 + 10];
            let arg = (0..10).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            arg == labels[i] as usize
        })
        .count();
    assert!(correct >= 75, "trained briefly: {correct}/100");

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/python-roundtrip");
    std::fs::create_dir_all(&dir).unwrap();
    let model_file = block_on(state::export_safetensors(
        &t.be,
        &mut t.model,
        &[("architecture", "reference")],
    ));
    std::fs::write(dir.join("model.safetensors"), model_file).unwrap();
    let lab = safetensors::write(
        &[
            F32Tensor {
                name: "images",
                shape: &[n, 1, 28, 28],
                values: images,
            },
            F32Tensor {
                name: "labels",
                shape: &[n],
                values: &labels.iter().map(|&l| l as f32).collect::<Vec<_>>(),
            },
            F32Tensor {
                name: "probs",
                shape: &[n, 10],
                values: &probs,
            },
        ],
        &[],
    );
    std::fs::write(dir.join("digits.safetensors"), lab).unwrap();

    let Some(py) = python() else {
        // CNN_LAB_REQUIRE_PYTHON=1 (set by a test script after tests/python/setup.sh) turns the skip
        // into a failure, so that CI cannot pass without the round trip.
        assert!(
            std::env::var("CNN_LAB_REQUIRE_PYTHON").is_err(),
            "CNN_LAB_REQUIRE_PYTHON is set but no python with numpy + safetensors was found"
        );
        println!("SKIPPED: no python with numpy + safetensors (run tests/python/setup.sh); files in {dir:?}");
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/check_export.py");
    let out = std::process::Command::new(py)
        .arg(script)
        .arg(&dir)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    println!("{text}");
    assert!(out.status.success(), "python check failed:\n{text}");
    assert!(text.contains("agree"), "{text}");
}
