//! What a manager tells about itself: per-pool statistics, real-time metrics, the trend
//! history, the performance report, and the hand-off queues and held buffers. The manager fills them (`manager::monitoring`) and
//! copies them out (`manager::readers`).

pub(crate) mod hand_offs;
pub(crate) mod history;
pub(crate) mod integrity;
pub(crate) mod metrics;
pub(crate) mod report;
pub(crate) mod statistics;
