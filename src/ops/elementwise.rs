//! Element-wise plumbing: fill, add (skip connections), add-assign. Any shape, equal lengths.
//! The backward of `y = a + b` is the identity into both inputs, so it needs no kernel of its own.

pub mod reference {
    pub fn add(a: &[f32], b: &[f32], y: &mut [f32]) {
        for i in 0..y.len() {
            y[i] = a[i] + b[i];
        }
    }

    pub fn add_assign(y: &mut [f32], x: &[f32]) {
        for i in 0..y.len() {
            y[i] += x[i];
        }
    }
}

pub fn add(a: &[f32], b: &[f32], y: &mut [f32]) {
    super::act::zip3(y, a, b, |a, b| a + b);
}

pub fn add_assign(y: &mut [f32], x: &[f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += x;
    }
}
