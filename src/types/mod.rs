//! The value types callers pass in and get back: status codes, audio formats and why one is
//! refused, buffer types, why a call was refused, the buffer header, and the runtime configuration (`c_enum!` declares
//! the C-numbered enums).

pub(crate) mod c_enum;
pub(crate) mod buffer_type;
pub(crate) mod config;
pub(crate) mod format;
pub(crate) mod format_problem;
pub(crate) mod header;
pub(crate) mod manager_state;
pub(crate) mod refusal_reason;
pub(crate) mod status;
