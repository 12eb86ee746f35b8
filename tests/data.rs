//! Data: the bundled MNIST file, the IDX loader (valid, corrupted and fuzzed files), batching and
//! augmentations.

use cnn_lab::data::augment::{self, Augment, Geometry};
use cnn_lab::data::idx::{self, IMAGES_MAGIC, LABELS_MAGIC};
use cnn_lab::data::mnist::Mnist;
use cnn_lab::data::{epoch_order, DataError, Dataset};
use cnn_lab::rng::Rng;

const BUNDLED: &[u8] = include_bytes!("../assets/mnist-10k.bin");

// ---- the bundled file ------------------------------------------------------------------------

#[test]
fn bundled_file_loads_with_its_split_and_plausible_pixels() {
    let m = Mnist::parse(BUNDLED).unwrap();
    let d = &m.data;
    assert_eq!((d.len(), d.rows, d.cols), (10_000, 28, 28));
    assert_eq!(d.pixels.len(), 10_000 * 784);
    assert_eq!((m.train().len(), m.test().len()), (8_000, 2_000));
    assert_eq!(m.seed, 1998);
    assert!(d.labels.iter().all(|&l| l <= 9));
    for split in [m.train(), m.test()] {
        let mut counts = [0usize; 10];
        split.labels.iter().for_each(|&l| counts[l as usize] += 1);
        // a shuffled 10-class set: every class present in roughly its share
        let share = split.len() / 10;
        assert!(
            counts
                .iter()
                .all(|&c| c > share * 6 / 10 && c < share * 14 / 10),
            "{counts:?}"
        );
    }
    let images = d.all().images();
    assert!(images.iter().all(|&x| (0.0..=1.0).contains(&x)));
    let mean = images.iter().map(|&x| x as f64).sum::<f64>() / images.len() as f64;
    assert!((0.12..0.14).contains(&mean), "mean pixel {mean}"); // MNIST: 0.1307
                                                                // every image has ink and background; the border is mostly empty
    for i in 0..d.len() {
        let img = d.all().image(i);
        let max = img.iter().cloned().fold(0.0, f32::max);
        let ink = img.iter().filter(|&&x| x > 0.5).count();
        assert!(
            max > 0.9 && ink > 20 && ink < 500,
            "image {i}: max {max}, ink {ink}"
        );
    }
    let corner: f32 = (0..d.len()).map(|i| d.all().image(i)[0]).sum();
    assert_eq!(corner, 0.0);
}

#[test]
fn bundled_order_is_the_crate_rng_shuffle_of_the_package_order() {
    // The converter (JavaScript) re-implements Rng::shuffle; the package lists all 0s, then all 1s...
    let m = Mnist::parse(BUNDLED).unwrap();
    let mut counts = [0usize; 10];
    m.data.labels.iter().for_each(|&l| counts[l as usize] += 1);
    assert_eq!(
        counts,
        [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    );
    let mut sorted: Vec<u8> = (0..10u8)
        .flat_map(|d| vec![d; counts[d as usize]])
        .collect();
    Rng::new(m.seed).shuffle(&mut sorted);
    assert_eq!(sorted, m.data.labels);
}

/// A small file in the bundled format: `n` images of 4x3, the first `train` of them the train split.
fn small_bundled(n: usize, train: u32) -> Vec<u8> {
    let mut b = b"CNLM".to_vec();
    for v in [1, n as u32, 4, 3, train] {
        b.extend(v.to_le_bytes());
    }
    b.extend(7u64.to_le_bytes());
    b.extend((0..n).map(|i| (i % 10) as u8));
    b.extend((0..n * 12).map(|i| (i * 37 % 256) as u8));
    b
}

#[test]
fn bundled_format_rejects_corrupted_files() {
    let good = small_bundled(5, 3);
    let m = Mnist::parse(&good).unwrap();
    assert_eq!((m.train().len(), m.test().len(), m.seed), (3, 2, 7));
    assert_eq!(
        m.test().image(0)[1],
        ((3 * 12 + 1) * 37 % 256) as f32 / 255.0
    );

    let err = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        Mnist::parse(&b).unwrap_err()
    };
    assert!(matches!(
        err(&|b| b.truncate(20)),
        DataError::TooShort { .. }
    ));
    assert!(matches!(err(&|b| b[0] = b'X'), DataError::BadMagic { .. }));
    assert!(matches!(
        err(&|b| b[4] = 2),
        DataError::UnsupportedVersion { version: 2, .. }
    ));
    assert!(matches!(
        err(&|b| b[20] = 6),
        DataError::BadSplit { train: 6, count: 5 }
    ));
    assert!(matches!(
        err(&|b| b[12] = 0),
        DataError::ZeroDim { dim: "rows", .. }
    ));
    assert!(matches!(
        err(&|b| b[19] = 0xff),
        DataError::DimsTooLarge { .. }
    ));
    assert!(matches!(
        err(&|b| b.truncate(b.len() - 1)),
        DataError::SizeMismatch { .. }
    ));
    assert!(matches!(
        err(&|b| b[32 + 4] = 10),
        DataError::LabelOutOfRange {
            index: 4,
            label: 10,
            ..
        }
    ));
    // An IDX file handed to the bundled parser is refused, not misread.
    let idx_file = idx_bytes(IMAGES_MAGIC, &[5, 4, 3], &[0; 60]);
    assert!(matches!(
        Mnist::parse(&idx_file),
        Err(DataError::BadMagic { .. })
    ));
}

// ---- batches ---------------------------------------------------------------------------------

#[test]
fn the_same_seed_gives_the_same_batches() {
    let m = Mnist::parse(BUNDLED).unwrap();
    let train = m.train();
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    epoch_order(&mut a, train.len(), 42, 3);
    epoch_order(&mut b, train.len(), 42, 3);
    assert_eq!(a, b);
    let mut sorted = a.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..8000).collect::<Vec<_>>());
    epoch_order(&mut c, train.len(), 42, 4);
    assert_ne!(a, c, "each epoch has its own order");
    epoch_order(&mut c, train.len(), 43, 3);
    assert_ne!(a, c, "each seed has its own order");

    // Buffers are the caller's, reused for every batch; contents match the samples picked.
    let (mut img, mut lab) = (vec![0.0; 64 * 784], vec![0.0; 64]);
    let (mut img2, mut lab2) = (vec![0.0; 64 * 784], vec![0.0; 64]);
    for (batch_a, batch_b) in a.chunks(64).zip(b.chunks(64)) {
        let k = batch_a.len();
        train.fill_batch(batch_a, &mut img[..k * 784], &mut lab[..k]);
        train.fill_batch(batch_b, &mut img2[..k * 784], &mut lab2[..k]);
        assert_eq!((&img, &lab), (&img2, &lab2));
        for (j, &i) in batch_a.iter().enumerate() {
            assert_eq!(&img[j * 784..(j + 1) * 784], train.image(i));
            let bytes = train.bytes(i).iter().map(|&b| b as f32 / 255.0);
            assert!(img[j * 784..(j + 1) * 784].iter().copied().eq(bytes));
            assert_eq!(lab[j], train.labels[i] as f32);
        }
    }

    let aug = Augment {
        max_rotate_deg: 15.0,
        max_shift: 2.0,
        zoom: (0.9, 1.1),
        noise_sigma: 0.1,
        ..Augment::default()
    };
    let idx = &a[..32];
    let (mut x1, mut x2, mut l) = (vec![0.0; 32 * 784], vec![0.0; 32 * 784], vec![0.0; 32]);
    train.fill_batch_augmented(idx, &aug, &mut Rng::new(5), &mut x1, &mut l);
    train.fill_batch_augmented(idx, &aug, &mut Rng::new(5), &mut x2, &mut l);
    assert_eq!(x1, x2);
    train.fill_batch_augmented(idx, &aug, &mut Rng::new(6), &mut x2, &mut l);
    assert_ne!(x1, x2);
    assert!(x1.iter().all(|&x| (0.0..=1.0).contains(&x)));
}

// ---- IDX -------------------------------------------------------------------------------------

fn idx_bytes(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut b = magic.to_be_bytes().to_vec();
    dims.iter().for_each(|d| b.extend(d.to_be_bytes()));
    b.extend_from_slice(body);
    b
}

/// `n` images of `rows x cols` with distinct pixel values, and labels 0, 1, 2, ...
fn idx_pair(n: u32, rows: u32, cols: u32) -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..n * rows * cols).map(|i| (i * 7 % 256) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    (
        idx_bytes(IMAGES_MAGIC, &[n, rows, cols], &pixels),
        idx_bytes(LABELS_MAGIC, &[n], &labels),
    )
}

#[test]
fn idx_files_written_here_load() {
    let (images, labels) = idx_pair(5, 3, 4);
    let d: Dataset = idx::load(&images, &labels).unwrap();
    assert_eq!((d.len(), d.rows, d.cols), (5, 3, 4));
    assert_eq!(d.labels, [0, 1, 2, 3, 4]);
    for (i, &x) in d.all().images().iter().enumerate() {
        assert_eq!(x, (i * 7 % 256) as f32 / 255.0);
    }
    assert_eq!(
        d.all().image(4)[11],
        ((4 * 12 + 11) * 7 % 256) as f32 / 255.0
    );

    // the standard MNIST geometry, with the standard magic numbers 2051 and 2049
    assert_eq!((IMAGES_MAGIC, LABELS_MAGIC), (2051, 2049));
    let (images, labels) = idx_pair(12, 28, 28);
    let d = idx::load(&images, &labels).unwrap();
    assert_eq!((d.len(), d.pixels.len()), (12, 12 * 784));
}

fn load_err(images: &[u8], labels: &[u8]) -> DataError {
    idx::load(images, labels).unwrap_err()
}

#[test]
fn corrupted_idx_files_each_give_their_own_error() {
    let (images, labels) = idx_pair(5, 3, 4);
    let with = |b: &[u8], at: usize, word: u32| {
        let mut b = b.to_vec();
        b[at..at + 4].copy_from_slice(&word.to_be_bytes());
        b
    };

    // wrong magic, and the two files swapped
    let e = load_err(&with(&images, 0, 0x0000_0D03), &labels);
    assert_eq!(
        e,
        DataError::BadMagic {
            file: "images file",
            expected: 2051,
            found: 0x0D03
        }
    );
    assert!(e.to_string().contains("0x00000d03"), "{e}");
    let e = load_err(&labels, &images);
    assert_eq!(
        e,
        DataError::BadMagic {
            file: "images file",
            expected: 2051,
            found: 2049
        }
    );
    assert!(
        e.to_string().contains("labels file (magic number 2049)"),
        "{e}"
    );

    // still gzip-compressed
    let e = load_err(&[0x1f, 0x8b, 8, 0, 0, 0], &labels);
    assert_eq!(
        e,
        DataError::Gzipped {
            file: "images file"
        }
    );
    assert!(e.to_string().contains("decompress"), "{e}");

    // truncated inside the header, and inside the data
    assert_eq!(
        load_err(&images[..10], &labels),
        DataError::TooShort {
            file: "images file",
            len: 10,
            need: 16
        }
    );
    assert_eq!(
        load_err(&[], &labels),
        DataError::TooShort {
            file: "images file",
            len: 0,
            need: 16
        }
    );
    assert_eq!(
        load_err(&images, &labels[..6]),
        DataError::TooShort {
            file: "labels file",
            len: 6,
            need: 8
        }
    );
    let e = load_err(&images[..images.len() - 1], &labels);
    assert_eq!(
        e,
        DataError::SizeMismatch {
            file: "images file",
            declared: 76,
            actual: 75
        }
    );
    assert!(e.to_string().contains("truncated"), "{e}");

    // header claims far more than the file holds (no allocation follows), or less
    let e = load_err(&with(&images, 4, 1_000_000), &labels);
    assert_eq!(
        e,
        DataError::SizeMismatch {
            file: "images file",
            declared: 12_000_016,
            actual: 76
        }
    );
    let e = load_err(&with(&images, 4, u32::MAX), &labels);
    assert!(
        matches!(e, DataError::SizeMismatch { declared, .. } if declared == 16 + u32::MAX as u128 * 12)
    );
    let e = load_err(&images, &with(&labels, 4, u32::MAX));
    assert!(matches!(
        e,
        DataError::SizeMismatch {
            file: "labels file",
            ..
        }
    ));
    let mut longer = images.clone();
    longer.push(0);
    let e = load_err(&longer, &labels);
    assert_eq!(
        e,
        DataError::SizeMismatch {
            file: "images file",
            declared: 76,
            actual: 77
        }
    );
    assert!(e.to_string().contains("extra data"), "{e}");

    // images and labels that do not belong together
    let (_, four_labels) = idx_pair(4, 3, 4);
    let e = load_err(&images, &four_labels);
    assert_eq!(
        e,
        DataError::CountMismatch {
            images: 5,
            labels: 4
        }
    );
    assert!(
        e.to_string().contains("5 images") && e.to_string().contains("4 labels"),
        "{e}"
    );

    // zero and absurd dimensions
    let zero_rows = idx_bytes(IMAGES_MAGIC, &[5, 0, 4], &[]);
    assert_eq!(
        load_err(&zero_rows, &labels),
        DataError::ZeroDim {
            file: "images file",
            dim: "rows"
        }
    );
    let zero_cols = idx_bytes(IMAGES_MAGIC, &[5, 4, 0], &[]);
    assert_eq!(
        load_err(&zero_cols, &labels),
        DataError::ZeroDim {
            file: "images file",
            dim: "columns"
        }
    );
    let empty = idx_bytes(IMAGES_MAGIC, &[0, 28, 28], &[]);
    assert_eq!(
        load_err(&empty, &labels),
        DataError::ZeroDim {
            file: "images file",
            dim: "images"
        }
    );
    let no_labels = idx_bytes(LABELS_MAGIC, &[0], &[]);
    assert_eq!(
        load_err(&images, &no_labels),
        DataError::ZeroDim {
            file: "labels file",
            dim: "labels"
        }
    );
    let huge = idx_bytes(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[]);
    let e = load_err(&huge, &labels);
    assert_eq!(
        e,
        DataError::DimsTooLarge {
            file: "images file",
            rows: u32::MAX as usize,
            cols: u32::MAX as usize
        }
    );
    assert!(e.to_string().contains("at most 1024x1024"), "{e}");
    let wide = idx_bytes(IMAGES_MAGIC, &[1, 1, 1025], &[0; 1025]);
    assert!(matches!(
        load_err(&wide, &labels),
        DataError::DimsTooLarge {
            rows: 1,
            cols: 1025,
            ..
        }
    ));

    // labels that are not digits
    let bad_label = idx_bytes(LABELS_MAGIC, &[5], &[0, 1, 2, 200, 4]);
    let e = load_err(&images, &bad_label);
    assert_eq!(
        e,
        DataError::LabelOutOfRange {
            file: "labels file",
            index: 3,
            label: 200
        }
    );
    assert!(e.to_string().contains("label 200 at position 3"), "{e}");
}

#[test]
fn mutated_idx_files_never_panic() {
    let (images, labels) = idx_pair(6, 5, 4);
    let mut rng = Rng::new(2024);
    let (mut ok, mut rejected) = (0, 0);
    for round in 0..4000 {
        let (mut im, mut lb) = (images.clone(), labels.clone());
        let target = if round % 2 == 0 { &mut im } else { &mut lb };
        for _ in 0..1 + rng.below(4) {
            match rng.below(5) {
                // flip bits of a random byte, biased towards the header
                0 | 1 => {
                    let n = if rng.below(2) == 0 {
                        target.len().min(16)
                    } else {
                        target.len()
                    };
                    if n > 0 {
                        let at = rng.below(n);
                        target[at] ^= 1 << rng.below(8);
                    }
                }
                2 => {
                    let at = rng.below(target.len() + 1);
                    target.truncate(at);
                }
                3 => target.push(rng.next_u32() as u8),
                // overwrite a header word with a random or extreme value
                _ => {
                    let words = target.len() / 4;
                    if words > 0 {
                        let at = 4 * rng.below(words.min(4));
                        let v = [0, 1, u32::MAX, rng.next_u32()][rng.below(4)];
                        target[at..at + 4].copy_from_slice(&v.to_be_bytes());
                    }
                }
            }
        }
        match idx::load(&im, &lb) {
            Ok(d) => {
                ok += 1;
                assert_eq!(d.pixels.len(), d.len() * d.rows * d.cols);
                assert!(d.pixels.len() <= im.len(), "allocation beyond the input");
                assert!(d.labels.iter().all(|&l| l <= 9));
            }
            Err(e) => {
                rejected += 1;
                assert!(!e.to_string().is_empty());
            }
        }
        let _ = Mnist::parse(&im);
    }
    eprintln!("idx fuzz: {ok} loaded, {rejected} rejected");
    // pixel-byte flips still load; header damage is rejected: both branches were exercised
    assert!(ok > 100 && rejected > 1000, "ok {ok}, rejected {rejected}");
}

#[test]
fn mutated_bundled_files_never_panic() {
    let good = small_bundled(7, 5);
    let mut rng = Rng::new(99);
    let mut rejected = 0;
    for _ in 0..3000 {
        let mut b = good.clone();
        match rng.below(3) {
            0 => {
                let at = rng.below(b.len().min(40));
                b[at] ^= 1 << rng.below(8);
            }
            1 => b.truncate(rng.below(b.len())),
            _ => {
                let at = 4 * rng.below(8);
                b[at..at + 4].copy_from_slice(&rng.next_u32().to_le_bytes());
            }
        }
        match Mnist::parse(&b) {
            Ok(m) => assert!(m.train_len <= m.data.len() && m.data.pixels.len() <= b.len()),
            Err(_) => rejected += 1,
        }
    }
    assert!(rejected > 1500, "rejected {rejected}");
}

// ---- augmentations ---------------------------------------------------------------------------

const R: usize = 28;
const C: usize = 28;

fn random_image(seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..R * C).map(|_| rng.uniform()).collect()
}

fn at(img: &[f32], r: usize, c: usize) -> f32 {
    img[r * C + c]
}

#[test]
fn identity_parameters_give_the_identity() {
    let src = random_image(1);
    let mut dst = vec![0.0; R * C];
    augment::warp(&src, &mut dst, R, C, &Geometry::default());
    assert_eq!(dst, src);
    augment::rotate(&src, &mut dst, R, C, 0.0);
    assert_eq!(dst, src);
    augment::shift(&src, &mut dst, R, C, 0.0, 0.0);
    assert_eq!(dst, src);
    augment::zoom(&src, &mut dst, R, C, 1.0);
    assert_eq!(dst, src);
    augment::contrast(&src, &mut dst, 1.0);
    assert_eq!(dst, src);
    let mut rng = Rng::new(3);
    augment::gaussian_noise(&src, &mut dst, 0.0, &mut rng);
    assert_eq!(dst, src);
    augment::salt_and_pepper(&src, &mut dst, 0.0, &mut rng);
    assert_eq!(dst, src);
    augment::mask_pixels(&src, &mut dst, 0.0, &mut rng);
    assert_eq!(dst, src);
    augment::mask_block(&src, &mut dst, R, C, 0, &mut rng);
    assert_eq!(dst, src);
    Augment::default().apply(&src, &mut dst, R, C, &mut rng);
    assert_eq!(dst, src);
}

#[test]
fn shift_by_one_moves_every_pixel_by_one() {
    let src = random_image(2);
    let mut dst = vec![0.0; R * C];
    augment::shift(&src, &mut dst, R, C, 1.0, 0.0);
    for r in 0..R {
        assert_eq!(at(&dst, r, 0), 0.0, "vacated column is background");
        for c in 1..C {
            assert_eq!(at(&dst, r, c), at(&src, r, c - 1));
        }
    }
    augment::shift(&src, &mut dst, R, C, 0.0, -1.0);
    for c in 0..C {
        assert_eq!(at(&dst, R - 1, c), 0.0);
        for r in 0..R - 1 {
            assert_eq!(at(&dst, r, c), at(&src, r + 1, c));
        }
    }
    // half a pixel: the bilinear average of neighbours
    augment::shift(&src, &mut dst, R, C, 0.5, 0.0);
    let expect = 0.5 * (at(&src, 9, 9) + at(&src, 9, 10));
    assert!((at(&dst, 9, 10) - expect).abs() < 1e-6);
}

#[test]
fn flip_twice_is_the_identity_and_warp_flips_alike() {
    let src = random_image(3);
    let (mut once, mut twice, mut warped) = (vec![0.0; R * C], vec![0.0; R * C], vec![0.0; R * C]);
    augment::flip_horizontal(&src, &mut once, C);
    augment::flip_horizontal(&once, &mut twice, C);
    assert_eq!(twice, src);
    assert_eq!(at(&once, 4, 0), at(&src, 4, C - 1));
    assert_eq!(at(&once, 17, 10), at(&src, 17, C - 11));
    let g = Geometry {
        flip: true,
        ..Geometry::default()
    };
    augment::warp(&src, &mut warped, R, C, &g);
    assert_eq!(warped, once);
}

#[test]
fn rotation_by_90_degrees_turns_a_known_pattern() {
    // a bar from the centre to the right edge, on row 13
    let mut bar = vec![0.0; R * C];
    (14..C).for_each(|c| bar[13 * C + c] = 1.0);
    let mut dst = vec![0.0; R * C];
    augment::rotate(&bar, &mut dst, R, C, 90.0);
    // counter-clockwise on screen: the bar now points up, along column 13
    for r in 0..R {
        for c in 0..C {
            let want = if c == 13 && r <= 13 { 1.0 } else { 0.0 };
            assert!(
                (at(&dst, r, c) - want).abs() < 1e-4,
                "({r},{c}) = {}",
                at(&dst, r, c)
            );
        }
    }
    // in general (r, c) goes to (27 - c, r) about the centre 13.5
    let src = random_image(4);
    augment::rotate(&src, &mut dst, R, C, 90.0);
    for r in 0..R {
        for c in 0..C {
            assert!((at(&dst, 27 - c, r) - at(&src, r, c)).abs() < 1e-4);
        }
    }
    // four quarter turns come back
    let mut turned = src.clone();
    for _ in 0..4 {
        augment::rotate(&turned.clone(), &mut turned, R, C, 90.0);
    }
    assert!(turned.iter().zip(&src).all(|(a, b)| (a - b).abs() < 1e-4));
}

#[test]
fn zoom_scales_a_centred_square_about_the_centre() {
    // an 8x8 square centred on (13.5, 13.5)
    let mut sq = vec![0.0; R * C];
    for r in 10..18 {
        (10..18).for_each(|c| sq[r * C + c] = 1.0);
    }
    let mass = |img: &[f32]| img.iter().sum::<f32>();
    let mut dst = vec![0.0; R * C];
    augment::zoom(&sq, &mut dst, R, C, 2.0);
    assert!(
        (mass(&dst) / mass(&sq) - 4.0).abs() < 0.35,
        "mass {}",
        mass(&dst)
    );
    assert_eq!(at(&dst, 13, 13), 1.0);
    assert!(
        (at(&dst, 14, 14) - at(&dst, 13, 13)).abs() < 1e-6,
        "symmetric about the centre"
    );
    augment::zoom(&sq, &mut dst, R, C, 0.5);
    assert!(
        (mass(&dst) / mass(&sq) - 0.25).abs() < 0.05,
        "mass {}",
        mass(&dst)
    );
    assert_eq!(at(&dst, 9, 9), 0.0);
}

#[test]
fn contrast_moves_pixels_from_the_mean() {
    let src: Vec<f32> = (0..R * C)
        .map(|i| if i % 2 == 0 { 0.4 } else { 0.6 })
        .collect();
    let mut dst = vec![0.0; R * C];
    augment::contrast(&src, &mut dst, 2.0);
    assert!((dst[0] - 0.3).abs() < 1e-6 && (dst[1] - 0.7).abs() < 1e-6);
    augment::contrast(&src, &mut dst, 0.0);
    assert!(dst.iter().all(|&x| (x - 0.5).abs() < 1e-6));
    augment::contrast(&src, &mut dst, 100.0);
    assert!(dst.iter().all(|&x| x == 0.0 || x == 1.0), "clipped");
}

#[test]
fn noise_statistics_are_plausible() {
    let grey = vec![0.5; R * C];
    let mut dst = vec![0.0; R * C];
    let mut rng = Rng::new(11);
    let mut all = Vec::new();
    for _ in 0..50 {
        augment::gaussian_noise(&grey, &mut dst, 0.1, &mut rng);
        all.extend_from_slice(&dst);
    }
    let n = all.len() as f32;
    let mean = all.iter().sum::<f32>() / n;
    let std = (all.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n).sqrt();
    assert!(
        (mean - 0.5).abs() < 0.005 && (std - 0.1).abs() < 0.005,
        "mean {mean}, std {std}"
    );
    augment::gaussian_noise(&vec![0.0; R * C], &mut dst, 1.0, &mut rng);
    assert!(
        dst.iter().all(|&x| (0.0..=1.0).contains(&x)),
        "clipped to [0, 1]"
    );
    assert!(
        dst.iter().filter(|&&x| x == 0.0).count() > 300,
        "about half clipped at 0"
    );

    let count =
        |dst: &[f32], v: f32| dst.iter().filter(|&&x| x == v).count() as f32 / dst.len() as f32;
    let big = vec![0.5; 100 * 100];
    let mut out = vec![0.0; 100 * 100];
    augment::salt_and_pepper(&big, &mut out, 0.2, &mut rng);
    let (salt, pepper) = (count(&out, 1.0), count(&out, 0.0));
    assert!(
        (salt - 0.1).abs() < 0.01 && (pepper - 0.1).abs() < 0.01,
        "{salt} {pepper}"
    );

    let ones = vec![1.0; 100 * 100];
    augment::mask_pixels(&ones, &mut out, 0.3, &mut rng);
    assert!(
        (count(&out, 0.0) - 0.3).abs() < 0.015,
        "{}",
        count(&out, 0.0)
    );
    assert!((count(&out, 0.0) + count(&out, 1.0) - 1.0).abs() < 1e-6);

    let ones = vec![1.0; R * C];
    augment::mask_block(&ones, &mut dst, R, C, 5, &mut rng);
    let zeros: Vec<usize> = (0..R * C).filter(|&i| dst[i] == 0.0).collect();
    assert_eq!(zeros.len(), 25);
    let (r0, c0) = (zeros[0] / C, zeros[0] % C);
    assert!(zeros
        .iter()
        .all(|&i| (r0..r0 + 5).contains(&(i / C)) && (c0..c0 + 5).contains(&(i % C))));
}

#[test]
fn the_same_seed_gives_the_same_augmented_image() {
    let aug = Augment {
        max_rotate_deg: 20.0,
        max_shift: 3.0,
        zoom: (0.8, 1.2),
        flip_prob: 0.5,
        contrast: (0.7, 1.3),
        noise_sigma: 0.05,
        salt_pepper: 0.02,
        mask_prob: 0.05,
        mask_block: 6,
    };
    let src = random_image(5);
    let (mut a, mut b) = (vec![0.0; R * C], vec![0.0; R * C]);
    for seed in 0..20 {
        aug.apply(&src, &mut a, R, C, &mut Rng::new(seed));
        aug.apply(&src, &mut b, R, C, &mut Rng::new(seed));
        assert_eq!(a, b);
        assert!(a.iter().all(|&x| (0.0..=1.0).contains(&x)));
        aug.apply(&src, &mut b, R, C, &mut Rng::new(seed + 100));
        assert_ne!(a, b);
    }
    // the same random calls, stream by stream: two images in a row differ
    let mut rng = Rng::new(1);
    aug.apply(&src, &mut a, R, C, &mut rng);
    aug.apply(&src, &mut b, R, C, &mut rng);
    assert_ne!(a, b);
}

#[test]
fn stored_bytes_augment_exactly_as_their_f32_images() {
    // Pixels are stored as bytes and converted per batch: the same floats as converting first.
    let m = Mnist::parse(BUNDLED).unwrap();
    let test = m.test();
    let aug = Augment {
        max_rotate_deg: 20.0,
        max_shift: 2.0,
        zoom: (0.9, 1.1),
        contrast: (0.8, 1.2),
        ..Augment::default()
    };
    let (mut a, mut b) = (vec![0.0; 784], vec![0.0; 784]);
    for i in 0..50 {
        aug.apply(test.bytes(i), &mut a, 28, 28, &mut Rng::new(i as u64));
        aug.apply(&test.image(i)[..], &mut b, 28, 28, &mut Rng::new(i as u64));
        assert_eq!(a, b, "image {i}");
        assert!(a.iter().any(|&x| x > 0.5));
    }
}
