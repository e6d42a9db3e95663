//! The inspection rules at the end of an inspection, as Ironic runs them after its
//! hooks: the stored rules of phase `main` and the operator's built-in ones, highest
//! priority first, over the node, its inventory, the plugin data and its ports. The
//! changes they make are kept; a rule that fails (a `fail` action, or an error)
//! fails the inspection with the rule named.

use ferric_types::inspection_rules::{
    apply_rules, InspectionRule, MaskSecrets, RuleContext, PHASE_MAIN,
};
use ferric_types::{JsonObject, Node, Port, Timestamp};
use serde_json::Value;

use crate::{Conductor, ConductorError};

/// `[inspection_rules]`: the operator's built-in rules and who sees secrets.
#[derive(Debug, Clone, Default)]
pub struct RuleSettings {
    /// From the file `built_in_rules` names; never listed by the API.
    pub built_in: Vec<InspectionRule>,
    pub mask_secrets: MaskSecrets,
}

fn object(v: &Value) -> JsonObject {
    match v {
        Value::Object(map) => map.clone(),
        _ => JsonObject::new(),
    }
}

/// A stored resource's JSON form (`serde_json::to_value` of it), for the rules to
/// read and change.
fn object_of(json: serde_json::Result<Value>) -> JsonObject {
    object(&json.unwrap_or_default())
}

impl Conductor {
    /// Runs the rules on `node` (its properties already updated) and `plugin_data`.
    /// `Ok(Err(why))` when a rule failed the inspection.
    pub(crate) async fn run_inspection_rules(
        &self,
        node: &mut Node,
        inventory: &Value,
        plugin_data: &mut Value,
    ) -> Result<Result<(), String>, ConductorError> {
        let mut rules = self.db.inspection_rules_of_phase(PHASE_MAIN).await?;
        rules.extend(self.rules.built_in.iter().cloned());
        if rules.is_empty() {
            return Ok(Ok(()));
        }
        let (_, ports) = self.db.nics_of(node.uuid).await?;
        let mut ctx = RuleContext {
            node: object_of(serde_json::to_value(&*node)),
            inventory: object(inventory),
            plugin_data: object(plugin_data),
            ports: ports
                .iter()
                .map(|p| object_of(serde_json::to_value(p)))
                .collect(),
        };
        let outcome = apply_rules(&rules, &mut ctx, self.rules.mask_secrets);
        let log = match &outcome {
            Ok(applied) => &applied.log,
            Err(failure) => &failure.log,
        };
        for line in log {
            tracing::info!(node = %node.uuid, rule = %line.rule, level = line.level.name(), "{}", line.message);
        }
        // What ran before a failure stays, as in Ironic.
        match serde_json::from_value::<Node>(Value::Object(ctx.node)) {
            Ok(changed) => *node = changed,
            Err(e) => {
                return Ok(Err(format!(
                "Failed to finish inspection: the inspection rules left node {} unreadable: {e}",
                node.uuid
            )))
            }
        }
        *plugin_data = Value::Object(ctx.plugin_data);
        for (before, after) in ports.iter().zip(ctx.ports) {
            let Ok(mut port) = serde_json::from_value::<Port>(Value::Object(after)) else {
                return Ok(Err(format!(
                    "Failed to finish inspection: the inspection rules left port {} unreadable",
                    before.uuid
                )));
            };
            if port != *before {
                port.updated_at = Some(Timestamp::after(before.updated_at));
                self.db.port_update(&port, before.updated_at).await?;
            }
        }
        Ok(match outcome {
            Ok(applied) => {
                if !applied.matched.is_empty() {
                    tracing::info!(node = %node.uuid, matched = applied.matched.len(), "inspection rules applied");
                }
                Ok(())
            }
            Err(failure) => Err(format!("Failed to finish inspection: {failure}")),
        })
    }
}
