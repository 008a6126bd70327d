//! The exports: pointer and length plumbing around [`Module`]. See
//! `docs/ABI.md` for the contract of each.
//!
//! A wasm module runs on one thread, so one global [`Module`], created on
//! first use with the embedded rule, serves every call.

use core::cell::UnsafeCell;
use std::alloc::Layout;

use crate::{Module, ABI_VERSION, BAD_POINTER};

struct Global(UnsafeCell<Option<Module>>);

// SAFETY: wasm32-unknown-unknown without the atomics feature has exactly one
// thread, and no export re-enters another.
unsafe impl Sync for Global {}

static STATE: Global = Global(UnsafeCell::new(None));

fn state() -> &'static mut Module {
    // SAFETY: one thread, no re-entrance (see `Global`); each export takes
    // this reference once and drops it before returning.
    unsafe { (*STATE.0.get()).get_or_insert_with(Module::new) }
}

/// `ptr << 32 | len`, or 0 for no bytes.
fn pack(bytes: &[u8]) -> u64 {
    if bytes.is_empty() {
        0
    } else {
        ((bytes.as_ptr() as usize as u64) << 32) | bytes.len() as u64
    }
}

/// The bytes a host passed, if `(ptr, len)` lies inside linear memory.
fn input<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        return Some(&[]);
    }
    let memory = core::arch::wasm32::memory_size(0).checked_mul(65536)?;
    let end = (ptr as usize).checked_add(len)?;
    if ptr.is_null() || end > memory {
        return None;
    }
    // SAFETY: in bounds of linear memory, which is always readable; the host
    // owns these bytes for the duration of the call.
    Some(unsafe { core::slice::from_raw_parts(ptr, len) })
}

fn bad_pointer(m: &mut Module, export: &str, ptr: *const u8, len: usize) -> i32 {
    let memory = core::arch::wasm32::memory_size(0) as u64 * 65536;
    m.set_error(format_args!(
        "{export}: ({}, {len}) is not inside linear memory ({memory} bytes)",
        ptr as usize
    ));
    BAD_POINTER
}

fn layout(len: usize) -> Option<Layout> {
    Layout::from_size_align(len.max(1), 1).ok()
}

#[unsafe(no_mangle)]
pub extern "C" fn abi_version() -> u32 {
    ABI_VERSION
}

/// `len` bytes for the host to fill; 0 when they can't be had. Free with
/// `dealloc(ptr, len)`, the same `len`.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    match layout(len) {
        // SAFETY: the layout's size is at least 1.
        Some(l) => unsafe { std::alloc::alloc(l) },
        None => core::ptr::null_mut(),
    }
}

/// Frees what `alloc(len)` returned. A null `ptr` is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn dealloc(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    if let Some(l) = layout(len) {
        // SAFETY: the contract is that `ptr` came from `alloc(len)`.
        unsafe { std::alloc::dealloc(ptr, l) }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn configure(ptr: *const u8, len: usize) -> i32 {
    let m = state();
    match input(ptr, len) {
        Some(bytes) => m.configure(bytes),
        None => bad_pointer(m, "configure", ptr, len),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn push_event(ptr: *const u8, len: usize) -> i32 {
    let m = state();
    match input(ptr, len) {
        Some(bytes) => m.push_event(bytes),
        None => bad_pointer(m, "push_event", ptr, len),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn push_event_with_time(ptr: *const u8, len: usize, fallback_ms: i64) -> i32 {
    let m = state();
    match input(ptr, len) {
        Some(bytes) => m.push_event_with_time(bytes, fallback_ms),
        None => bad_pointer(m, "push_event_with_time", ptr, len),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn push_events(ptr: *const u8, len: usize) -> i32 {
    let m = state();
    match input(ptr, len) {
        Some(bytes) => m.push_events(bytes),
        None => bad_pointer(m, "push_events", ptr, len),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn drain_alerts() -> u64 {
    pack(state().drain_alerts())
}

#[unsafe(no_mangle)]
pub extern "C" fn last_error() -> u64 {
    pack(state().last_error().as_bytes())
}

#[unsafe(no_mangle)]
pub extern "C" fn flush() -> i32 {
    state().flush()
}

#[unsafe(no_mangle)]
pub extern "C" fn advance_time(now_ms: i64) -> i32 {
    state().advance_time(now_ms)
}

#[unsafe(no_mangle)]
pub extern "C" fn stats() -> u64 {
    pack(state().stats().as_bytes())
}

#[unsafe(no_mangle)]
pub extern "C" fn snapshot() -> u64 {
    pack(state().snapshot())
}

#[unsafe(no_mangle)]
pub extern "C" fn restore(ptr: *const u8, len: usize) -> i32 {
    let m = state();
    match input(ptr, len) {
        Some(bytes) => m.restore(bytes),
        None => bad_pointer(m, "restore", ptr, len),
    }
}
