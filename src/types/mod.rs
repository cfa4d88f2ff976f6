//! The value types callers pass in and get back: status codes, audio formats and why one is
//! refused, the buffer header, and the runtime configuration.

pub(crate) mod config;
pub(crate) mod format;
pub(crate) mod format_problem;
pub(crate) mod header;
pub(crate) mod status;
