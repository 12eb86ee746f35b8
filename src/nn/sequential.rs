//! A chain of layers. Layer `i` reads layer `i - 1`'s output; backward hands layer `i` the output
//! gradient that layer `i + 1` wrote into its own input-gradient buffer.

use super::layer::{Layer, Param, Shape, Tensor};
use crate::backend::Backend;

pub struct Sequential<B: Backend> {
    pub layers: Vec<Box<dyn Layer<B>>>,
}

impl<B: Backend> Sequential<B> {
    pub fn new(layers: Vec<Box<dyn Layer<B>>>) -> Self {
        assert!(
            !layers.is_empty(),
            "a sequential container needs at least one layer"
        );
        Sequential { layers }
    }
}

impl<B: Backend> Layer<B> for Sequential<B> {
    fn name(&self) -> String {
        let names: Vec<String> = self.layers.iter().map(|l| l.name()).collect();
        names.join("-")
    }
    fn out_shape(&self, x: Shape) -> Shape {
        self.layers.iter().fold(x, |s, l| l.out_shape(s))
    }
    fn forward(&mut self, be: &B, x: &Tensor<B>, train: bool) {
        let mut cur = x;
        for layer in self.layers.iter_mut() {
            layer.forward(be, cur, train);
            cur = layer.output();
        }
    }
    fn output(&self) -> &Tensor<B> {
        self.layers.last().expect("non-empty").output()
    }
    fn backward(&mut self, be: &B, x: &Tensor<B>, dy: &B::Buf, need_dx: bool) {
        let last = self.layers.len() - 1;
        for i in (0..=last).rev() {
            let (before, rest) = self.layers.split_at_mut(i);
            let (layer, after) = rest.split_first_mut().expect("i < len");
            let input = if i == 0 { x } else { before[i - 1].output() };
            let grad = if i == last { dy } else { after[0].input_grad() };
            layer.backward(be, input, grad, i > 0 || need_dx);
        }
    }
    fn input_grad(&self) -> &B::Buf {
        self.layers[0].input_grad()
    }
    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param<B>)) {
        for layer in self.layers.iter_mut() {
            layer.visit_params(f);
        }
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&'static str, &mut B::Buf)) {
        for layer in self.layers.iter_mut() {
            layer.visit_buffers(f);
        }
    }
}
