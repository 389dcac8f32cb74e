//! Domain types: plain data, no I/O.

mod alert;
mod ids;
mod incident;
mod maintenance;
mod outcome;
mod pattern;
mod plan;
mod records;
mod redact;
mod runbook;

pub use alert::*;
pub use ids::*;
pub use incident::*;
pub use maintenance::*;
pub use outcome::*;
pub use pattern::*;
pub use plan::*;
pub use records::*;
pub use redact::{MASK, redact_command};
pub use runbook::*;
