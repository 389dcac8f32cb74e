//! Identifiers. UUIDv7 so they sort by creation time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new identifier ordered by creation time.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }
    };
}

uuid_id!(
    /// One incident: one or more correlated alerts handled together.
    IncidentId
);
uuid_id!(
    /// One stored alert occurrence (fingerprint + startsAt).
    AlertId
);
uuid_id!(
    /// One remediation attempt.
    AttemptId
);
uuid_id!(
    /// One learned or seeded pattern.
    PatternId
);
uuid_id!(
    /// One maintenance window.
    MaintenanceId
);
uuid_id!(
    /// One step parked for operator approval.
    ApprovalId
);
uuid_id!(
    /// One self-restart hand-off.
    HandoffId
);
