//! What a manager tells about itself: per-pool statistics, real-time metrics, the trend
//! history and the performance report. The manager fills them (`manager::monitoring`) and
//! copies them out (`manager::readers`).

pub(crate) mod history;
pub(crate) mod metrics;
pub(crate) mod report;
pub(crate) mod statistics;
