//! The exports: pointer plumbing around [`Filter`]. See the crate docs for
//! the calling convention.
//!
//! A wasm module runs on one thread and Fluent Bit calls one filter function
//! at a time, so one global [`Filter`], created on first use with the
//! embedded rule, serves every call.

use core::cell::UnsafeCell;
use std::alloc::Layout;

use crate::{Filter, Mode, MsgpackReply, Record};

struct Global(UnsafeCell<Option<Filter>>);

// SAFETY: wasm32-unknown-unknown without the atomics feature has exactly one
// thread, and no export re-enters another.
unsafe impl Sync for Global {}

static STATE: Global = Global(UnsafeCell::new(None));

fn state() -> &'static mut Filter {
    // SAFETY: one thread, no re-entrance (see `Global`); each export takes
    // this reference once and drops it before returning.
    unsafe { (*STATE.0.get()).get_or_insert_with(Filter::new) }
}

/// Bytes before each block `malloc` hands out: its total size, for `free`,
/// which is given only the pointer.
const HEADER: usize = 8;

fn block_layout(total: usize) -> Option<Layout> {
    Layout::from_size_align(total, HEADER).ok()
}

/// `size` bytes for the host to fill (Fluent Bit asks for the tag and the
/// record, each with its NUL); 0 when memory cannot grow that far. Fluent
/// Bit then calls the filter with a zero pointer.
#[unsafe(no_mangle)]
pub extern "C" fn malloc(size: usize) -> *mut u8 {
    let Some(layout) = size.checked_add(HEADER).and_then(block_layout) else {
        return core::ptr::null_mut();
    };
    // SAFETY: the layout's size is at least HEADER > 0.
    let base = unsafe { std::alloc::alloc(layout) };
    if base.is_null() {
        return base;
    }
    // SAFETY: `base` is HEADER-aligned and the block is at least HEADER long.
    unsafe {
        base.cast::<usize>().write(layout.size());
        base.add(HEADER)
    }
}

/// Frees what `malloc` returned. A null pointer is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn free(ptr: *mut u8) {
    release(ptr);
}

fn release(ptr: *mut u8) {
    if ptr.is_null() || (ptr as usize) < HEADER {
        return;
    }
    // SAFETY: the contract is that `ptr` came from `malloc`, so the block
    // starts HEADER bytes before it with its total size.
    unsafe {
        let base = ptr.sub(HEADER);
        let total = base.cast::<usize>().read();
        if let Some(layout) = block_layout(total) {
            std::alloc::dealloc(base, layout);
        }
    }
}

/// Linear memory's size in bytes.
fn memory_bytes() -> u64 {
    core::arch::wasm32::memory_size(0) as u64 * 65536
}

/// The record as the export finds it: its bytes if `(ptr, len)` lies inside
/// linear memory.
fn record<'a>(ptr: *const u8, len: u32) -> Record<'a> {
    if ptr.is_null() {
        return Record::Null { len };
    }
    let end = (ptr as usize as u64).saturating_add(u64::from(len));
    if end > memory_bytes() {
        return Record::OutOfBounds {
            ptr: ptr as usize as u32,
            len,
            memory_bytes: memory_bytes(),
        };
    }
    if len == 0 {
        return Record::Bytes(&[]);
    }
    // SAFETY: in bounds of linear memory, which is always readable; the host
    // owns these bytes for the duration of the call.
    Record::Bytes(unsafe { core::slice::from_raw_parts(ptr, len as usize) })
}

fn call(
    mode: Mode,
    time_sec: u32,
    time_nsec: u32,
    record_ptr: *const u8,
    record_len: u32,
) -> *const u8 {
    let record = record(record_ptr, record_len);
    state().call(mode, time_sec, time_nsec, record).as_ptr()
}

/// Fluent Bit filter: every record out, with `alerts` added when it
/// completed sequences.
#[unsafe(no_mangle)]
pub extern "C" fn pass_through(
    _tag_ptr: *const u8,
    _tag_len: u32,
    time_sec: u32,
    time_nsec: u32,
    record_ptr: *const u8,
    record_len: u32,
) -> *const u8 {
    call(
        Mode::PassThrough,
        time_sec,
        time_nsec,
        record_ptr,
        record_len,
    )
}

/// Fluent Bit filter: `{"alerts":[...]}` for a record that completed
/// sequences, `""` (dropped) for every other record.
#[unsafe(no_mangle)]
pub extern "C" fn alerts_only(
    _tag_ptr: *const u8,
    _tag_len: u32,
    time_sec: u32,
    time_nsec: u32,
    record_ptr: *const u8,
    record_len: u32,
) -> *const u8 {
    call(
        Mode::AlertsOnly,
        time_sec,
        time_nsec,
        record_ptr,
        record_len,
    )
}

/// Fluent Bit filter for `event_format msgpack`: the record as MessagePack;
/// a MessagePack `{"alerts":["<alert JSON>",...]}` for a record that
/// completed sequences, an empty map `{}` for every other record (Fluent
/// Bit 5.1.1 cannot drop a record in this format). See `msgpack.rs`.
#[unsafe(no_mangle)]
pub extern "C" fn alerts_only_msgpack(
    _tag_ptr: *const u8,
    _tag_len: u32,
    time_sec: u32,
    time_nsec: u32,
    record_ptr: *const u8,
    record_len: u32,
) -> *const u8 {
    let record = record(record_ptr, record_len);
    match state().call_msgpack(time_sec, time_nsec, record) {
        MsgpackReply::Reply(bytes) => bytes.as_ptr(),
        MsgpackReply::Drop => EMPTY_MAP.as_ptr(),
    }
}

/// The answer for a record that completes nothing in `event_format
/// msgpack`: an empty map. Fluent Bit 5.1.1 has no way to drop a record in
/// this format: an empty reply corrupts the chunk, and a pointer it cannot
/// read leaves an exception that fails the next call (`msgpack.rs`).
const EMPTY_MAP: &[u8] = b"\x80\0";

/// The counters as a NUL-terminated JSON object (see [`Filter::stats_json`]),
/// valid until the next call to `stats`.
#[unsafe(no_mangle)]
pub extern "C" fn stats() -> *const u8 {
    state().stats_json().as_ptr()
}
