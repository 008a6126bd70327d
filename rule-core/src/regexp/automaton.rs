//! Complement (`~`) and intersection (`&`), which Elasticsearch accepts
//! (`RegexpFlag.ALL`) but regex-automata cannot express: patterns that use
//! them are compiled here, into a byte-level DFA of our own.
//!
//! The tree becomes a Thompson NFA over UTF-8 bytes; every part without
//! `~` or `&` goes through [`lower`](super::lower) first, so folding and
//! classes mean exactly what they mean on the regex-automata path. A `~x`
//! or `a&b` node is determinized (subset construction), combined by a
//! product construction, and embedded back into the NFA as a fragment; the
//! whole NFA is then determinized once more and matching walks the DFA:
//! linear in the haystack, one table look-up per byte.
//!
//! The complement is taken within valid UTF-8 (`@ ∩ ¬x`), as Lucene's is
//! within strings of code points; otherwise a concatenation could split a
//! character between a complement and what follows it.
//!
//! Cost is bounded, like Lucene's own determinization work limit: NFA
//! states, DFA table size and subset-construction work each have a cap, and
//! passing one refuses the pattern with [`RegexpErrorKind::TooComplex`].

use alloc::vec::Vec;

use hashbrown::HashMap;
use regex_syntax::hir::{Class, Hir, HirKind};
use regex_syntax::utf8::Utf8Sequences;

use super::lower::{any_string, lower};
use super::parse::{Node, NodeKind};
use super::{RegexpError, RegexpErrorKind, MAX_DETERMINIZE_WORK, MAX_DFA_BYTES};

/// NFA states, over all the sub-automata one pattern builds.
const MAX_NFA_STATES: usize = 100_000;

/// Does the tree use `~` or `&` anywhere (so regex-automata cannot run it)?
pub fn needs_automaton(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Complement(_) | NodeKind::Intersection(_) => true,
        NodeKind::Concat(items) | NodeKind::Union(items) => items.iter().any(needs_automaton),
        NodeKind::Repeat { node, .. } => needs_automaton(node),
        _ => false,
    }
}

/// A complete DFA over byte classes. State 0 is dead (a sink that never
/// accepts); state 1 is the start.
#[derive(Debug)]
pub struct Dfa {
    classes: [u8; 256],
    class_count: usize,
    table: Vec<u32>,
    accepting: Vec<bool>,
}

const DEAD: u32 = 0;
const START: u32 = 1;

impl Dfa {
    pub fn is_match(&self, haystack: &str) -> bool {
        let mut state = START;
        for &byte in haystack.as_bytes() {
            let class = usize::from(self.classes[usize::from(byte)]);
            state = self.table[state as usize * self.class_count + class];
            if state == DEAD {
                return false;
            }
        }
        self.accepting[state as usize]
    }

    fn next(&self, state: u32, byte: u8) -> u32 {
        let class = usize::from(self.classes[usize::from(byte)]);
        self.table[state as usize * self.class_count + class]
    }
}

/// Compiles a whole tree (anchored: a DFA accepts whole strings).
pub fn compile(tree: &Node, case_insensitive: bool) -> Result<Dfa, RegexpError> {
    let mut builder = Builder {
        case_insensitive,
        work: 0,
        nfa_states: 0,
    };
    builder.dfa_of(tree)
}

#[derive(Default)]
struct NfaState {
    epsilons: Vec<u32>,
    ranges: Vec<(u8, u8, u32)>,
}

#[derive(Default)]
struct Nfa {
    states: Vec<NfaState>,
}

/// A piece of NFA with one way in and one way out (`end` has no edges yet).
#[derive(Clone, Copy)]
struct Fragment {
    start: u32,
    end: u32,
}

struct Builder {
    case_insensitive: bool,
    work: usize,
    nfa_states: usize,
}

impl Builder {
    fn too_complex(&self, offset: usize) -> RegexpError {
        RegexpError {
            offset,
            kind: RegexpErrorKind::TooComplex,
        }
    }

    fn state(&mut self, nfa: &mut Nfa, offset: usize) -> Result<u32, RegexpError> {
        self.nfa_states += 1;
        if self.nfa_states > MAX_NFA_STATES {
            return Err(self.too_complex(offset));
        }
        nfa.states.push(NfaState::default());
        Ok((nfa.states.len() - 1) as u32)
    }

    fn dfa_of(&mut self, node: &Node) -> Result<Dfa, RegexpError> {
        let mut nfa = Nfa::default();
        let fragment = self.node(&mut nfa, node)?;
        self.determinize(&nfa, fragment, node.offset)
    }

    fn node(&mut self, nfa: &mut Nfa, node: &Node) -> Result<Fragment, RegexpError> {
        let offset = node.offset;
        match &node.kind {
            _ if !needs_automaton(node) => {
                let hir = lower(node, self.case_insensitive)?;
                self.hir(nfa, &hir, offset)
            }
            NodeKind::Concat(items) => {
                let start = self.state(nfa, offset)?;
                let mut end = start;
                for item in items {
                    let next = self.node(nfa, item)?;
                    nfa.states[end as usize].epsilons.push(next.start);
                    end = next.end;
                }
                Ok(Fragment { start, end })
            }
            NodeKind::Union(items) => {
                let start = self.state(nfa, offset)?;
                let end = self.state(nfa, offset)?;
                for item in items {
                    let next = self.node(nfa, item)?;
                    nfa.states[start as usize].epsilons.push(next.start);
                    nfa.states[next.end as usize].epsilons.push(end);
                }
                Ok(Fragment { start, end })
            }
            NodeKind::Repeat {
                node: sub,
                min,
                max,
            } => {
                // Determinize a `~`/`&` operand once, then copy its DFA.
                let dfa = self.dfa_of(sub)?;
                self.repeat(nfa, *min, *max, offset, |b, nfa| b.embed(nfa, &dfa, offset))
            }
            NodeKind::Complement(sub) => {
                let inner = self.dfa_of(sub)?;
                let universe = self.universe(offset)?;
                let dfa = self.product(&universe, &inner, Op::AndNot, offset)?;
                self.embed(nfa, &dfa, offset)
            }
            NodeKind::Intersection(items) => {
                let mut operands = items.iter();
                let Some(first) = operands.next() else {
                    return Err(self.too_complex(offset));
                };
                let mut dfa = self.dfa_of(first)?;
                for item in operands {
                    let other = self.dfa_of(item)?;
                    dfa = self.product(&dfa, &other, Op::And, offset)?;
                }
                self.embed(nfa, &dfa, offset)
            }
            // Leaves never need the automaton path: handled by the first arm.
            _ => {
                let hir = lower(node, self.case_insensitive)?;
                self.hir(nfa, &hir, offset)
            }
        }
    }

    /// Every valid UTF-8 string: what Lucene's complement is taken within.
    fn universe(&mut self, offset: usize) -> Result<Dfa, RegexpError> {
        let mut nfa = Nfa::default();
        let fragment = self.hir(&mut nfa, &any_string(), offset)?;
        self.determinize(&nfa, fragment, offset)
    }

    fn hir(&mut self, nfa: &mut Nfa, hir: &Hir, offset: usize) -> Result<Fragment, RegexpError> {
        match hir.kind() {
            // `lower` emits no look-arounds; anchoring is the DFA's own.
            HirKind::Empty | HirKind::Look(_) => {
                let state = self.state(nfa, offset)?;
                Ok(Fragment {
                    start: state,
                    end: state,
                })
            }
            HirKind::Literal(literal) => {
                let start = self.state(nfa, offset)?;
                let mut end = start;
                for &byte in literal.0.iter() {
                    let next = self.state(nfa, offset)?;
                    nfa.states[end as usize].ranges.push((byte, byte, next));
                    end = next;
                }
                Ok(Fragment { start, end })
            }
            HirKind::Class(Class::Unicode(class)) => {
                let start = self.state(nfa, offset)?;
                let end = self.state(nfa, offset)?;
                for range in class.ranges() {
                    for sequence in Utf8Sequences::new(range.start(), range.end()) {
                        let mut at = start;
                        let bytes = sequence.as_slice();
                        for (i, byte_range) in bytes.iter().enumerate() {
                            let to = if i + 1 == bytes.len() {
                                end
                            } else {
                                self.state(nfa, offset)?
                            };
                            nfa.states[at as usize].ranges.push((
                                byte_range.start,
                                byte_range.end,
                                to,
                            ));
                            at = to;
                        }
                    }
                }
                Ok(Fragment { start, end })
            }
            HirKind::Class(Class::Bytes(class)) => {
                let start = self.state(nfa, offset)?;
                let end = self.state(nfa, offset)?;
                for range in class.ranges() {
                    nfa.states[start as usize]
                        .ranges
                        .push((range.start(), range.end(), end));
                }
                Ok(Fragment { start, end })
            }
            HirKind::Repetition(repetition) => {
                let sub = &repetition.sub;
                self.repeat(nfa, repetition.min, repetition.max, offset, |b, nfa| {
                    b.hir(nfa, sub, offset)
                })
            }
            HirKind::Capture(capture) => self.hir(nfa, &capture.sub, offset),
            HirKind::Concat(subs) => {
                let start = self.state(nfa, offset)?;
                let mut end = start;
                for sub in subs {
                    let next = self.hir(nfa, sub, offset)?;
                    nfa.states[end as usize].epsilons.push(next.start);
                    end = next.end;
                }
                Ok(Fragment { start, end })
            }
            HirKind::Alternation(subs) => {
                let start = self.state(nfa, offset)?;
                let end = self.state(nfa, offset)?;
                for sub in subs {
                    let next = self.hir(nfa, sub, offset)?;
                    nfa.states[start as usize].epsilons.push(next.start);
                    nfa.states[next.end as usize].epsilons.push(end);
                }
                Ok(Fragment { start, end })
            }
        }
    }

    /// `min` copies, then either a loop (`max` unbounded) or `max - min`
    /// optional copies; `copy` builds one fresh copy of the operand.
    fn repeat(
        &mut self,
        nfa: &mut Nfa,
        min: u32,
        max: Option<u32>,
        offset: usize,
        mut copy: impl FnMut(&mut Self, &mut Nfa) -> Result<Fragment, RegexpError>,
    ) -> Result<Fragment, RegexpError> {
        let start = self.state(nfa, offset)?;
        let mut at = start;
        for _ in 0..min {
            let next = copy(self, nfa)?;
            nfa.states[at as usize].epsilons.push(next.start);
            at = next.end;
        }
        let end = self.state(nfa, offset)?;
        nfa.states[at as usize].epsilons.push(end);
        match max {
            None => {
                let body = copy(self, nfa)?;
                nfa.states[at as usize].epsilons.push(body.start);
                nfa.states[body.end as usize].epsilons.push(at);
            }
            Some(max) => {
                for _ in min..max {
                    let next = copy(self, nfa)?;
                    nfa.states[at as usize].epsilons.push(next.start);
                    nfa.states[next.end as usize].epsilons.push(end);
                    at = next.end;
                }
            }
        }
        Ok(Fragment { start, end })
    }

    /// A DFA as an NFA fragment: one NFA state per live DFA state, byte runs
    /// with one target as one range, accepting states into `end`.
    fn embed(&mut self, nfa: &mut Nfa, dfa: &Dfa, offset: usize) -> Result<Fragment, RegexpError> {
        let count = dfa.accepting.len();
        let base = nfa.states.len() as u32;
        for _ in 0..count {
            self.state(nfa, offset)?;
        }
        let end = self.state(nfa, offset)?;
        for from in 1..count as u32 {
            let state = &mut nfa.states[(base + from) as usize];
            if dfa.accepting[from as usize] {
                state.epsilons.push(end);
            }
            let mut run: Option<(u8, u32)> = None;
            for byte in 0..=255u8 {
                let to = dfa.next(from, byte);
                match run {
                    Some((_, target)) if target == to => {}
                    _ => {
                        if let Some((first, target)) = run {
                            if target != DEAD {
                                state.ranges.push((first, byte - 1, base + target));
                            }
                        }
                        run = Some((byte, to));
                    }
                }
            }
            if let Some((first, target)) = run {
                if target != DEAD {
                    state.ranges.push((first, 255, base + target));
                }
            }
        }
        Ok(Fragment {
            start: base + START,
            end,
        })
    }

    fn spend(&mut self, units: usize, offset: usize) -> Result<(), RegexpError> {
        self.work += units;
        if self.work > MAX_DETERMINIZE_WORK {
            return Err(self.too_complex(offset));
        }
        Ok(())
    }

    /// Subset construction over the NFA's byte classes.
    fn determinize(
        &mut self,
        nfa: &Nfa,
        fragment: Fragment,
        offset: usize,
    ) -> Result<Dfa, RegexpError> {
        let mut boundaries = [false; 257];
        for state in &nfa.states {
            for &(low, high, _) in &state.ranges {
                boundaries[usize::from(low)] = true;
                boundaries[usize::from(high) + 1] = true;
            }
        }
        let mut classes = [0u8; 256];
        let mut representatives = Vec::new();
        let mut class = 0usize;
        for byte in 0..256usize {
            if byte > 0 && boundaries[byte] {
                class += 1;
            }
            if representatives.len() == class {
                representatives.push(byte as u8);
            }
            classes[byte] = class as u8;
        }
        let class_count = class + 1;

        let mut ids: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut sets: Vec<Vec<u32>> = Vec::new();
        let mut closure = Closure::new(nfa.states.len());
        ids.insert(Vec::new(), DEAD);
        sets.push(Vec::new());
        let mut first = closure.of(nfa, [fragment.start].into_iter(), &mut |n| {
            self.spend(n, offset)
        })?;
        if first.is_empty() {
            // Only epsilon cycles reachable: still not the dead state's set.
            first.push(fragment.start);
        }
        ids.insert(first.clone(), START);
        sets.push(first);

        let mut dfa = Dfa {
            classes,
            class_count,
            table: Vec::new(),
            accepting: Vec::new(),
        };
        let mut next_state = 0usize;
        while next_state < sets.len() {
            let set = core::mem::take(&mut sets[next_state]);
            dfa.accepting.push(set.binary_search(&fragment.end).is_ok());
            let scanned: usize = set
                .iter()
                .map(|&s| nfa.states[s as usize].ranges.len())
                .sum();
            self.spend(scanned * class_count, offset)?;
            for &byte in &representatives {
                let targets = set.iter().flat_map(|&s| {
                    nfa.states[s as usize]
                        .ranges
                        .iter()
                        .filter(move |&&(low, high, _)| low <= byte && byte <= high)
                        .map(|&(_, _, to)| to)
                });
                let target = closure.of(nfa, targets, &mut |n| self.spend(n, offset))?;
                let id = match ids.get(&target) {
                    Some(&id) => id,
                    None => {
                        let id = sets.len() as u32;
                        if (id as usize + 1) * class_count * 4 > MAX_DFA_BYTES {
                            return Err(self.too_complex(offset));
                        }
                        ids.insert(target.clone(), id);
                        sets.push(target);
                        id
                    }
                };
                dfa.table.push(id);
            }
            self.spend(set.len() + class_count, offset)?;
            next_state += 1;
        }
        Ok(dfa)
    }

    /// The product of two DFAs: `And` is intersection, `AndNot` difference.
    fn product(&mut self, a: &Dfa, b: &Dfa, op: Op, offset: usize) -> Result<Dfa, RegexpError> {
        let mut pair_classes: HashMap<(u8, u8), u8> = HashMap::new();
        let mut classes = [0u8; 256];
        let mut representatives = Vec::new();
        for byte in 0..=255u8 {
            let key = (a.classes[usize::from(byte)], b.classes[usize::from(byte)]);
            let next = pair_classes.len() as u8;
            let class = *pair_classes.entry(key).or_insert_with(|| {
                representatives.push(byte);
                next
            });
            classes[usize::from(byte)] = class;
        }
        let class_count = representatives.len();
        let dead = |(x, y): (u32, u32)| x == DEAD || (op == Op::And && y == DEAD);

        let mut ids: HashMap<(u32, u32), u32> = HashMap::new();
        let mut pairs: Vec<(u32, u32)> = alloc::vec![(DEAD, DEAD), (START, START)];
        ids.insert((START, START), START);
        let mut dfa = Dfa {
            classes,
            class_count,
            table: Vec::new(),
            accepting: Vec::new(),
        };
        let mut next_state = 0usize;
        while next_state < pairs.len() {
            let (x, y) = pairs[next_state];
            let is_dead = next_state == DEAD as usize;
            dfa.accepting.push(
                !is_dead
                    && a.accepting[x as usize]
                    && match op {
                        Op::And => b.accepting[y as usize],
                        Op::AndNot => !b.accepting[y as usize],
                    },
            );
            for &byte in &representatives {
                let target = (a.next(x, byte), b.next(y, byte));
                let id = if is_dead || dead(target) {
                    DEAD
                } else if let Some(&id) = ids.get(&target) {
                    id
                } else {
                    let id = pairs.len() as u32;
                    if (id as usize + 1) * class_count * 4 > MAX_DFA_BYTES {
                        return Err(self.too_complex(offset));
                    }
                    ids.insert(target, id);
                    pairs.push(target);
                    id
                };
                dfa.table.push(id);
            }
            self.spend(class_count, offset)?;
            next_state += 1;
        }
        Ok(dfa)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    AndNot,
}

/// Epsilon closures with an explicit stack (no recursion on NFA shape) and
/// a generation-stamped visited list reused across calls.
struct Closure {
    seen: Vec<u32>,
    generation: u32,
    stack: Vec<u32>,
}

impl Closure {
    fn new(states: usize) -> Closure {
        Closure {
            seen: alloc::vec![0; states],
            generation: 0,
            stack: Vec::new(),
        }
    }

    fn of(
        &mut self,
        nfa: &Nfa,
        from: impl Iterator<Item = u32>,
        spend: &mut dyn FnMut(usize) -> Result<(), RegexpError>,
    ) -> Result<Vec<u32>, RegexpError> {
        self.generation += 1;
        let mut out = Vec::new();
        for state in from {
            self.stack.push(state);
            while let Some(s) = self.stack.pop() {
                if self.seen[s as usize] == self.generation {
                    continue;
                }
                self.seen[s as usize] = self.generation;
                let node = &nfa.states[s as usize];
                // Keep only states that read a byte, and the fragment's end.
                if !node.ranges.is_empty() || node.epsilons.is_empty() {
                    out.push(s);
                }
                self.stack.extend_from_slice(&node.epsilons);
            }
        }
        spend(out.len() + 1)?;
        out.sort_unstable();
        Ok(out)
    }
}
