//! # aes5_buffer_manager
//!
//! Static, lock-free, interrupt-safe pools of audio buffers for AES5-2018 sampling
//! frequencies, for firmware and DSP code in C, C++ and Rust.
//!
//! - Everything lives in one caller-owned storage block (32 KiB with the default geometry:
//!   Primary 8, Conversion 4, Scratch 2 buffers of 2048 bytes, data aligned to 32 bytes).
//!   Nothing allocates; the crate is `no_std` without `alloc`.
//! - Allocate and release are lock-free and O(1), callable from threads and interrupt
//!   handlers; double releases and foreign pointers are refused in O(1).
//! - Hand-off queues carry buffers between pipeline stages (an interrupt and a task), and the
//!   library knows where every buffer is: free, held by a caller, or waiting in a queue.
//! - Per-type statistics, real-time metrics, a lock-free performance history and a report.
//!
//! C and C++ use the generated header `include/aes5_buffer_manager.h`; Rust uses [`Manager`]
//! and its RAII [`Buffer`].
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

#[cfg(any(test, feature = "std"))]
extern crate std;

mod types;
mod geometry;
mod manager;
mod observability;
mod platform;
pub mod c_api;
mod rust_api;
#[cfg(test)]
mod verification;

pub use geometry::{
    AES5_CONVERSION_BUFFER_BYTES, AES5_CONVERSION_BUFFER_COUNT, AES5_DATA_ALIGNMENT, AES5_GEOMETRY_IS_DEFAULT,
    AES5_GUARD_BYTES, AES5_HISTORY_CAPACITY, AES5_MAX_BUFFERS_PER_POOL, AES5_MONITORING, AES5_PRIMARY_BUFFER_BYTES,
    AES5_PRIMARY_BUFFER_COUNT, AES5_QUEUE_COUNT, AES5_SCRATCH_BUFFER_BYTES, AES5_SCRATCH_BUFFER_COUNT,
    AES5_STORAGE_BYTES, AES5_STORAGE_WORDS,
};
pub use manager::refusal::LastRefusal;
pub use manager::state_machine::*;
pub use manager::storage::{BufferManager, BufferManagerStorage, StorageLayout};
pub use observability::hand_offs::{HeldBuffer, QueueStatistics, AES5_NO_QUEUE};
pub use observability::integrity::{IntegrityReport, AES5_INTEGRITY_MAX_IDS};
pub use observability::metrics::RealtimeMetrics;
pub use observability::report::{
    PerformanceReport, TrendAnalysis, AES5_HIGH_LATENCY_THRESHOLD_NS, AES5_HIGH_UTILIZATION_THRESHOLD,
    AES5_LOW_SUCCESS_RATE_THRESHOLD, AES5_NO_BUFFER, AES5_WARNING_CORRUPTION, AES5_WARNING_HIGH_LATENCY,
    AES5_WARNING_HIGH_UTILIZATION, AES5_WARNING_LONG_HOLD, AES5_WARNING_LOW_SUCCESS_RATE, AES5_WARNING_NOT_MONITORED,
    AES5_WARNING_TIMEOUTS,
};
pub use observability::statistics::ManagerStatistics;
pub use observability::statistics::PoolStatistics;
pub use platform::clock::Aes5ClockFn;
pub use rust_api::{Buffer, Manager};
pub use types::buffer_type::*;
pub use types::config::{
    Aes5LogDetailFn, Aes5LogFn, RuntimeConfig, AES5_DEFAULT_ALLOCATION_TIMEOUT_NS, AES5_DEFAULT_MIN_SUCCESS_RATE,
    AES5_DEFAULT_TREND_INTERVAL_NS, AES5_MIN_ALLOCATION_TIMEOUT_NS, AES5_MIN_MAX_HOLD_NS, AES5_MIN_SUCCESS_RATE_FLOOR,
    AES5_MIN_TREND_INTERVAL_NS,
};
pub use types::format::*;
pub use types::format_problem::*;
pub use types::header::{AudioBuffer, AES5_BUFFER_MAGIC};
pub use types::refusal_reason::*;
pub use types::status::*;
