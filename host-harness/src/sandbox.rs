//! The sandbox every call into a rule runs in, shared by the core module
//! host (`wasm`) and the component host (`component`): the CPU bound (fuel,
//! or an epoch deadline ticked by a thread), the memory cap (`Limiter`, a
//! `ResourceLimiter` that also notes refusals and the largest memory), and
//! what a trap meant.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Config, Engine, ResourceLimiter, Store, StoreLimits, Trap};

use crate::error::{HostError, TrapCause};

/// How a call's CPU time is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuLimit {
    /// Deterministic: each call gets `base + per_byte * input_len` units of
    /// fuel (about one per wasm instruction) and traps when they run out.
    /// Wasmtime counts fuel in every basic block: the seed rule runs about
    /// 4 % slower than under a deadline (BENCHMARKS.md, "CPU bound: fuel vs
    /// epoch").
    Fuel { base: u64, per_byte: u64 },
    /// Wall clock: each call traps once `deadline` has passed (epoch
    /// interruption: a thread ticks the engine's epoch every `tick`, and the
    /// compiled code compares it with the call's deadline at function
    /// entries and loop back-edges). The default.
    Deadline { deadline: Duration, tick: Duration },
    /// No CPU bound: a call that never returns hangs the host. Only for
    /// measuring what the bound costs (`rulehost bench`: the deadline's
    /// checks make the seed rule about 13 % slower, fuel about 18 %), or
    /// for a host that bounds the whole thread some other way.
    Unbounded,
}

/// The default CPU bound per call: 10 s of wall time, checked every 10 ms.
/// A call of the engine takes microseconds per event and well under a
/// second for the largest inputs the default limits let in; the margin is
/// for a configure of a large pack or a restore on a loaded machine (wall
/// time counts the time others take the core). Only a module that runs
/// away reaches it.
pub const DEFAULT_DEADLINE: CpuLimit = CpuLimit::Deadline {
    deadline: Duration::from_secs(10),
    tick: Duration::from_millis(10),
};

/// The fuel bound `--fuel` and earlier versions used: 2e9 units for any
/// call and 5 000 more per input byte (the engine uses 100 to 200 units
/// per byte of Defend-shaped events, so 25x or more).
pub const DEFAULT_FUEL: CpuLimit = CpuLimit::Fuel {
    base: 2_000_000_000,
    per_byte: 5_000,
};

/// Bounds on what the module may take from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLimits {
    /// Linear memory, in bytes. A `memory.grow` beyond it fails (the module
    /// sees -1); the module usually traps then.
    pub max_memory_bytes: usize,
    /// Table elements.
    pub max_table_elements: usize,
    /// CPU bound per call.
    pub cpu: CpuLimit,
}

impl Default for HostLimits {
    fn default() -> Self {
        HostLimits {
            max_memory_bytes: 1 << 30,
            max_table_elements: 1 << 16,
            // The cheapest bound that still ends a runaway call (measured
            // against fuel in BENCHMARKS.md).
            cpu: DEFAULT_DEADLINE,
        }
    }
}

/// Increments an engine's epoch every `tick` until dropped.
pub(crate) struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    pub(crate) fn start(engine: Engine, tick: Duration) -> std::io::Result<Ticker> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("rulehost-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })?;
        Ok(Ticker { stop })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// An engine that bounds CPU as `cpu` asks: fuel metering, or epoch
/// interruption. Shared by the module and the component hosts.
pub(crate) fn sandbox_engine(cpu: &CpuLimit) -> Result<Engine, HostError> {
    let mut config = Config::new();
    match cpu {
        CpuLimit::Fuel { .. } => {
            config.consume_fuel(true);
        }
        CpuLimit::Deadline { .. } => {
            config.epoch_interruption(true);
        }
        CpuLimit::Unbounded => {}
    }
    Engine::new(&config).map_err(|e| HostError::Compile(format!("{e:#}")))
}

/// The thread that ticks `engine`'s epochs, when `cpu` is a deadline.
pub(crate) fn ticker(engine: &Engine, cpu: &CpuLimit) -> Result<Option<Arc<Ticker>>, HostError> {
    match *cpu {
        CpuLimit::Deadline { tick, .. } => Ok(Some(Arc::new(
            Ticker::start(engine.clone(), tick)
                .map_err(|e| HostError::Instantiate(format!("epoch thread: {e}")))?,
        ))),
        CpuLimit::Fuel { .. } | CpuLimit::Unbounded => Ok(None),
    }
}

/// The store's data: the memory cap, whether it refused a growth, and the
/// size of the largest memory it let grow.
pub(crate) struct Limiter {
    limits: StoreLimits,
    denied: bool,
    memory_bytes: usize,
    /// Fuel given to the current call, and fuel the store's earlier calls
    /// burnt (under a fuel bound; `rulehost bench` reports it per event).
    fuel_armed: u64,
    fuel_burnt: u64,
}

impl Limiter {
    pub(crate) fn new(limits: StoreLimits) -> Limiter {
        Limiter {
            limits,
            denied: false,
            memory_bytes: 0,
            fuel_armed: 0,
            fuel_burnt: 0,
        }
    }

    /// Whether a memory growth was refused since the last [`arm`].
    pub(crate) fn denied(&self) -> bool {
        self.denied
    }

    /// The largest linear memory's size now (memories only grow).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = self.limits.memory_growing(current, desired, maximum)?;
        if ok {
            self.memory_bytes = self.memory_bytes.max(desired);
        } else {
            self.denied = true;
        }
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }
    fn tables(&self) -> usize {
        self.limits.tables()
    }
    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// Gives the next call its CPU budget.
pub(crate) fn arm(store: &mut Store<Limiter>, cpu: &CpuLimit, input_len: usize) {
    store.data_mut().denied = false;
    match *cpu {
        CpuLimit::Fuel { base, per_byte } => {
            let fuel = base.saturating_add(per_byte.saturating_mul(input_len as u64));
            // What the previous call burnt goes to the total first: the
            // refill below forgets it.
            let burnt = fuel_burnt(store).unwrap_or(0);
            // Only fails when fuel is not enabled, which `from_bytes` does.
            let _ = store.set_fuel(fuel);
            let data = store.data_mut();
            data.fuel_burnt = burnt;
            data.fuel_armed = fuel;
        }
        CpuLimit::Deadline { deadline, tick } => {
            let ticks = (deadline.as_nanos() / tick.as_nanos().max(1)).max(1);
            store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
            store.epoch_deadline_trap();
        }
        CpuLimit::Unbounded => {}
    }
}

/// Fuel every call into this store has burnt so far (about one unit per
/// wasm instruction); `None` when the store is not under a fuel bound.
pub(crate) fn fuel_burnt(store: &Store<Limiter>) -> Option<u64> {
    let left = store.get_fuel().ok()?;
    let data = store.data();
    Some(data.fuel_burnt + data.fuel_armed.saturating_sub(left))
}

/// Why a call trapped, and the trap's message. `denied`: the memory cap
/// refused a growth during the call.
pub(crate) fn trap_cause(error: &wasmtime::Error, denied: bool) -> (TrapCause, String) {
    let cause = match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => TrapCause::OutOfFuel,
        Some(Trap::Interrupt) => TrapCause::Deadline,
        _ if denied => TrapCause::MemoryLimit,
        _ => TrapCause::Other,
    };
    let message = match error.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{error:#}"),
    };
    (cause, message)
}
