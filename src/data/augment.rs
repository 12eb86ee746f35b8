//! Augmentations of one single-channel image, `rows x cols` row-major f32 in [0, 1], written from
//! `src` into `dst` (same length). The geometric ones, and so [`Augment::apply`], also read a
//! dataset's stored bytes directly ([`Pixel`]). Random ones draw from a caller's seeded [`Rng`], so
//! the same seed gives the same images.
//!
//! Geometry is resampled bilinearly about the image centre ((cols-1)/2, (rows-1)/2), with zeros
//! (background) outside the source. Screen coordinates: x to the right, y downwards; a positive
//! angle turns the picture counter-clockwise as seen on screen.

use crate::rng::Rng;

/// A source pixel: f32 already in [0, 1], or a stored byte mapped by [`super::unit`].
pub trait Pixel: Copy {
    fn unit(self) -> f32;
}

impl Pixel for f32 {
    #[inline]
    fn unit(self) -> f32 {
        self
    }
}

impl Pixel for u8 {
    #[inline]
    fn unit(self) -> f32 {
        super::unit(self)
    }
}

/// A geometric transform: mirror (optional) first, then rotate and scale about the centre, then
/// shift. The identity is `Geometry::default()`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Geometry {
    pub angle_deg: f32,
    /// > 1 enlarges the digit, < 1 shrinks it. Must be > 0.
    pub scale: f32,
    /// Shift in pixels (x right, y down).
    pub dx: f32,
    pub dy: f32,
    pub flip: bool,
}

impl Default for Geometry {
    fn default() -> Self {
        Geometry {
            angle_deg: 0.0,
            scale: 1.0,
            dx: 0.0,
            dy: 0.0,
            flip: false,
        }
    }
}

/// Resamples `src` through `g`. Each output pixel looks up where it came from (the inverse map).
pub fn warp<P: Pixel>(src: &[P], dst: &mut [f32], rows: usize, cols: usize, g: &Geometry) {
    assert_eq!(src.len(), rows * cols, "src size");
    assert_eq!(dst.len(), rows * cols, "dst size");
    assert!(g.scale > 0.0, "scale must be positive");
    let (cx, cy) = ((cols as f32 - 1.0) / 2.0, (rows as f32 - 1.0) / 2.0);
    let (sin, cos) = g.angle_deg.to_radians().sin_cos();
    let inv = 1.0 / g.scale;
    for r in 0..rows {
        for c in 0..cols {
            // Undo the shift, then the rotation and scale (R(-angle) / scale), then the mirror.
            let (x, y) = (c as f32 - cx - g.dx, r as f32 - cy - g.dy);
            let sx = (x * cos - y * sin) * inv;
            let sy = (x * sin + y * cos) * inv;
            let sx = if g.flip { -sx } else { sx };
            dst[r * cols + c] = bilinear(src, rows, cols, sy + cy, sx + cx);
        }
    }
}

/// The source at fractional position (y, x); zero outside the image.
fn bilinear<P: Pixel>(src: &[P], rows: usize, cols: usize, y: f32, x: f32) -> f32 {
    let (y0, x0) = (y.floor(), x.floor());
    let (fy, fx) = (y - y0, x - x0);
    let at = |r: f32, c: f32| {
        if r < 0.0 || c < 0.0 || r >= rows as f32 || c >= cols as f32 {
            0.0
        } else {
            src[r as usize * cols + c as usize].unit()
        }
    };
    let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1.0) * fx;
    let bottom = at(y0 + 1.0, x0) * (1.0 - fx) + at(y0 + 1.0, x0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

pub fn rotate(src: &[f32], dst: &mut [f32], rows: usize, cols: usize, angle_deg: f32) {
    let g = Geometry {
        angle_deg,
        ..Geometry::default()
    };
    warp(src, dst, rows, cols, &g);
}

pub fn shift(src: &[f32], dst: &mut [f32], rows: usize, cols: usize, dx: f32, dy: f32) {
    let g = Geometry {
        dx,
        dy,
        ..Geometry::default()
    };
    warp(src, dst, rows, cols, &g);
}

pub fn zoom(src: &[f32], dst: &mut [f32], rows: usize, cols: usize, scale: f32) {
    let g = Geometry {
        scale,
        ..Geometry::default()
    };
    warp(src, dst, rows, cols, &g);
}

/// Mirror left-right (exact: no resampling).
pub fn flip_horizontal(src: &[f32], dst: &mut [f32], cols: usize) {
    assert_eq!(src.len(), dst.len(), "dst size");
    for (s, d) in src.chunks_exact(cols).zip(dst.chunks_exact_mut(cols)) {
        for (x, y) in s.iter().rev().zip(d) {
            *y = *x;
        }
    }
}

/// Scales each pixel's distance from the image mean by `factor` (1 = unchanged), clipped to [0, 1].
pub fn contrast(src: &[f32], dst: &mut [f32], factor: f32) {
    dst.copy_from_slice(src);
    contrast_in_place(dst, factor);
}

/// Adds N(0, sigma^2) to every pixel, clipped to [0, 1].
pub fn gaussian_noise(src: &[f32], dst: &mut [f32], sigma: f32, rng: &mut Rng) {
    dst.copy_from_slice(src);
    gaussian_noise_in_place(dst, sigma, rng);
}

/// Each pixel, with probability `p`, becomes 0 or 1 (even odds).
pub fn salt_and_pepper(src: &[f32], dst: &mut [f32], p: f32, rng: &mut Rng) {
    dst.copy_from_slice(src);
    salt_and_pepper_in_place(dst, p, rng);
}

/// Masking noise: each pixel, with probability `p`, is set to 0.
pub fn mask_pixels(src: &[f32], dst: &mut [f32], p: f32, rng: &mut Rng) {
    dst.copy_from_slice(src);
    mask_pixels_in_place(dst, p, rng);
}

/// Sets one `size x size` block (clamped to the image), at a random place inside the image, to 0.
pub fn mask_block(
    src: &[f32],
    dst: &mut [f32],
    rows: usize,
    cols: usize,
    size: usize,
    rng: &mut Rng,
) {
    dst.copy_from_slice(src);
    mask_block_in_place(dst, rows, cols, size, rng);
}

fn contrast_in_place(img: &mut [f32], factor: f32) {
    let mean = img.iter().sum::<f32>() / img.len() as f32;
    // x * f + m * (1 - f) rather than (x - m) * f + m: exactly x when f = 1.
    for x in img {
        *x = (*x * factor + mean * (1.0 - factor)).clamp(0.0, 1.0);
    }
}

fn gaussian_noise_in_place(img: &mut [f32], sigma: f32, rng: &mut Rng) {
    for x in img {
        *x = (*x + sigma * rng.normal()).clamp(0.0, 1.0);
    }
}

fn salt_and_pepper_in_place(img: &mut [f32], p: f32, rng: &mut Rng) {
    for x in img {
        if rng.uniform() < p {
            *x = if rng.uniform() < 0.5 { 0.0 } else { 1.0 };
        }
    }
}

fn mask_pixels_in_place(img: &mut [f32], p: f32, rng: &mut Rng) {
    for x in img {
        if rng.uniform() < p {
            *x = 0.0;
        }
    }
}

fn mask_block_in_place(img: &mut [f32], rows: usize, cols: usize, size: usize, rng: &mut Rng) {
    let (h, w) = (size.min(rows), size.min(cols));
    let (r0, c0) = (rng.below(rows - h + 1), rng.below(cols - w + 1));
    for r in r0..r0 + h {
        img[r * cols + c0..r * cols + c0 + w].fill(0.0);
    }
}

/// Ranges of a random augmentation, drawn afresh for every image. `Augment::default()` changes
/// nothing; each field switches one augmentation on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    /// Rotation uniform in [-max, max] degrees.
    pub max_rotate_deg: f32,
    /// Shift uniform in [-max, max] pixels, independently in x and y.
    pub max_shift: f32,
    /// Scale uniform in [min, max]; (1, 1) is off.
    pub zoom: (f32, f32),
    /// Probability of a left-right mirror (digits are not symmetric: for experiments only).
    pub flip_prob: f32,
    /// Contrast factor uniform in [min, max]; (1, 1) is off.
    pub contrast: (f32, f32),
    /// Standard deviation of additive Gaussian noise.
    pub noise_sigma: f32,
    /// Per-pixel probability of salt-and-pepper noise.
    pub salt_pepper: f32,
    /// Per-pixel probability of masking (set to 0).
    pub mask_prob: f32,
    /// Side of one random block set to 0; 0 is off.
    pub mask_block: usize,
}

impl Default for Augment {
    fn default() -> Self {
        Augment {
            max_rotate_deg: 0.0,
            max_shift: 0.0,
            zoom: (1.0, 1.0),
            flip_prob: 0.0,
            contrast: (1.0, 1.0),
            noise_sigma: 0.0,
            salt_pepper: 0.0,
            mask_prob: 0.0,
            mask_block: 0,
        }
    }
}

impl Augment {
    /// One random geometric transform, then contrast, then the noises, in that order.
    pub fn apply<P: Pixel>(
        &self,
        src: &[P],
        dst: &mut [f32],
        rows: usize,
        cols: usize,
        rng: &mut Rng,
    ) {
        let (rot, shift) = (self.max_rotate_deg, self.max_shift);
        let g = Geometry {
            angle_deg: between(rng, (-rot, rot)),
            scale: between(rng, self.zoom),
            dx: between(rng, (-shift, shift)),
            dy: between(rng, (-shift, shift)),
            flip: rng.uniform() < self.flip_prob,
        };
        warp(src, dst, rows, cols, &g);
        if self.contrast != (1.0, 1.0) {
            contrast_in_place(dst, between(rng, self.contrast));
        }
        if self.noise_sigma > 0.0 {
            gaussian_noise_in_place(dst, self.noise_sigma, rng);
        }
        if self.salt_pepper > 0.0 {
            salt_and_pepper_in_place(dst, self.salt_pepper, rng);
        }
        if self.mask_prob > 0.0 {
            mask_pixels_in_place(dst, self.mask_prob, rng);
        }
        if self.mask_block > 0 {
            mask_block_in_place(dst, rows, cols, self.mask_block, rng);
        }
    }
}

fn between(rng: &mut Rng, (lo, hi): (f32, f32)) -> f32 {
    lo + (hi - lo) * rng.uniform()
}
