//! Power states as the API names them.

/// `power_state` value of a node that is on.
pub const POWER_ON: &str = "power on";
/// `power_state` value of a node that is off.
pub const POWER_OFF: &str = "power off";
/// `power_state` value when the BMC could not tell.
pub const POWER_ERROR: &str = "error";
