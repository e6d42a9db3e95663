//! The inspection rule's typed id, and the synthetic ids Ironic gives built-in rules
//! that name none (`00000000-0000-0000-0000-<index as 12 hex digits>`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{parse_uuid, InvalidUuid};

/// Identifies an inspection rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InspectionRuleId(pub Uuid);

impl InspectionRuleId {
    /// A fresh random id.
    pub fn new_v4() -> Self {
        Self(Uuid::new_v4())
    }

    /// The id of the `index`-th built-in rule (counting only those without a uuid).
    pub fn synthetic(index: u64) -> Self {
        // The low 48 bits are the index; Ironic's `%012x` would widen past 12 digits
        // only for more than 2^48 rules.
        Self(Uuid::from_u128(u128::from(index & 0xffff_ffff_ffff)))
    }
}

impl fmt::Display for InspectionRuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for InspectionRuleId {
    type Err = InvalidUuid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_uuid(s).map(Self)
    }
}

impl TryFrom<String> for InspectionRuleId {
    type Error = InvalidUuid;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<InspectionRuleId> for String {
    fn from(id: InspectionRuleId) -> String {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_ids_are_ironics() {
        assert_eq!(
            InspectionRuleId::synthetic(0).to_string(),
            "00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(
            InspectionRuleId::synthetic(26).to_string(),
            "00000000-0000-0000-0000-00000000001a"
        );
    }

    #[test]
    fn parses_like_other_ids() {
        assert!("not-a-uuid".parse::<InspectionRuleId>().is_err());
        let id = InspectionRuleId::new_v4();
        assert_eq!(id.to_string().parse::<InspectionRuleId>(), Ok(id));
    }
}
