//! `| head N` and `| tail N` on a stream of results.
//!
//! Elasticsearch answers a batch query, so `head` is its first N results
//! and `tail` its last N. On a stream, `head N` passes the first N results
//! and drops the rest (counted); `tail N` holds the latest N and lets them
//! out at [`crate::Engine::flush`], the end of the stream. Pipes compose in
//! the order written.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::plan::PipePlan;

/// The state of a query's pipes.
#[derive(Debug, Clone, Default)]
pub struct Pipes<T> {
    stages: Vec<Stage<T>>,
    /// Results a pipe dropped.
    pub dropped: u64,
}

#[derive(Debug, Clone)]
enum Stage<T> {
    Head { left: u64 },
    Tail { keep: usize, held: VecDeque<T> },
}

impl<T> Pipes<T> {
    pub fn new(plan: &[PipePlan]) -> Pipes<T> {
        Pipes {
            stages: plan
                .iter()
                .map(|p| match *p {
                    PipePlan::Head(n) => Stage::Head { left: n },
                    PipePlan::Tail(n) => Stage::Tail {
                        keep: usize::try_from(n).unwrap_or(usize::MAX),
                        held: VecDeque::new(),
                    },
                })
                .collect(),
            dropped: 0,
        }
    }

    /// Passes one result through the pipes; what comes out goes to `out`.
    pub fn push(&mut self, result: T, out: &mut Vec<T>) {
        self.push_from(0, result, out);
    }

    fn push_from(&mut self, first: usize, result: T, out: &mut Vec<T>) {
        for i in first..self.stages.len() {
            match &mut self.stages[i] {
                Stage::Head { left } => {
                    if *left == 0 {
                        self.dropped += 1;
                        return;
                    }
                    *left -= 1;
                }
                Stage::Tail { keep, held } => {
                    if *keep == 0 {
                        self.dropped += 1;
                        return;
                    }
                    if held.len() == *keep {
                        held.pop_front();
                        self.dropped += 1;
                    }
                    held.push_back(result);
                    return;
                }
            }
        }
        out.push(result);
    }

    /// End of stream: every `tail` lets its results out, first pipe first.
    pub fn flush(&mut self, out: &mut Vec<T>) {
        for i in 0..self.stages.len() {
            let held = match &mut self.stages[i] {
                Stage::Tail { held, .. } => core::mem::take(held),
                Stage::Head { .. } => continue,
            };
            for result in held {
                self.push_from(i + 1, result, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(plan: &[PipePlan], n: u32) -> Vec<u32> {
        let mut pipes = Pipes::new(plan);
        let mut out = Vec::new();
        for i in 1..=n {
            pipes.push(i, &mut out);
        }
        pipes.flush(&mut out);
        out
    }

    #[test]
    fn head_tail_and_both() {
        assert_eq!(run(&[PipePlan::Head(3)], 5), [1, 2, 3]);
        assert_eq!(run(&[PipePlan::Tail(2)], 5), [4, 5]);
        assert_eq!(run(&[PipePlan::Head(4), PipePlan::Tail(2)], 9), [3, 4]);
        assert_eq!(run(&[PipePlan::Tail(4), PipePlan::Head(1)], 9), [6]);
        assert_eq!(run(&[], 2), [1, 2]);
    }
}
