//! Test-only helpers of the unit tests and the model checker: the unit tests' fixture, and the
//! loom models of the lock-free core (`RUSTFLAGS="--cfg loom" cargo test --release --lib`).
//! The tests themselves sit beside the code they test.

#[cfg(loom)]
pub(crate) mod loom_models;
#[cfg(not(loom))]
pub(crate) mod test_fixture;
