//! The shape inspection data must have when a ramdisk posts it
//! (`POST /v1/continue_inspection`), checked by the API before it goes anywhere
//! and by the conductor again.

use serde_json::Value;

/// Checks the shape Ironic requires: an `inventory` object whose `interfaces` list
/// has at least one NIC with a MAC.
pub fn validate(data: &Value) -> Result<(), String> {
    let inv = data
        .get("inventory")
        .filter(|i| i.is_object())
        .ok_or("the inspection data has no inventory object")?;
    let nics = inv
        .get("interfaces")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or("the inventory has no interfaces")?;
    if nics
        .iter()
        .any(|n| n.get("mac_address").and_then(Value::as_str).is_none())
    {
        return Err("every interface of the inventory needs a mac_address".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_inventory_with_nics_is_required() {
        let good = json!({"inventory": {"interfaces": [{"mac_address": "52:54:00:00:00:01"}]}});
        assert!(validate(&good).is_ok());
        let data = json!({"inventory": {"memory": {"total": 2_147_483_648u64}, "interfaces": []}});
        assert!(validate(&data).unwrap_err().contains("no interfaces"));
        assert!(validate(&json!({})).unwrap_err().contains("no inventory"));
        let nameless = json!({"inventory": {"interfaces": [{"name": "eth0"}]}});
        assert!(validate(&nameless).unwrap_err().contains("mac_address"));
    }
}
