//! Optimizers. Both update every parameter in place through the backend; their state lives in each
//! `Param::state`, created zeroed on the first step.

use super::layer::Param;
use crate::backend::{AdamStep, Backend};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerConfig {
    Sgd {
        lr: f32,
        momentum: f32,
    },
    Adam {
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
    },
}

impl OptimizerConfig {
    /// Adam with the usual betas and epsilon.
    pub fn adam(lr: f32) -> Self {
        OptimizerConfig::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
    pub fn sgd(lr: f32, momentum: f32) -> Self {
        OptimizerConfig::Sgd { lr, momentum }
    }
}

pub struct Optimizer {
    pub cfg: OptimizerConfig,
    /// Steps taken (Adam's bias correction counts from 1).
    pub t: u32,
}

impl Optimizer {
    pub fn new(cfg: OptimizerConfig) -> Self {
        Optimizer { cfg, t: 0 }
    }

    /// Called once per training step, before `update` is applied to each parameter.
    pub fn begin_step(&mut self) {
        self.t += 1;
    }

    pub fn update<B: Backend>(&self, be: &B, p: &mut Param<B>) {
        let slots = match self.cfg {
            OptimizerConfig::Sgd { .. } => 1,
            OptimizerConfig::Adam { .. } => 2,
        };
        if p.state.len() != slots {
            p.state = (0..slots).map(|_| be.zeros(p.len())).collect();
        }
        match self.cfg {
            OptimizerConfig::Sgd { lr, momentum } => {
                be.sgd_step(&mut p.value, &p.grad, &mut p.state[0], lr, momentum)
            }
            OptimizerConfig::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                let h = AdamStep {
                    lr,
                    beta1,
                    beta2,
                    eps,
                    t: self.t,
                };
                let (m, v) = p.state.split_at_mut(1);
                be.adam_step(&mut p.value, &p.grad, &mut m[0], &mut v[0], h);
            }
        }
    }
}
