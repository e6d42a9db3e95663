//! `[inspection_rules]` of ferricd's TOML file, under Ironic's option names:
//! `built_in_rules`, a YAML file holding a list of rules that run with the stored
//! ones but are never listed by the API, and `mask_secrets` (always, never,
//! sensitive; default always). Read and checked when ferricd starts; a bad file
//! stops it with the rule at fault named.

use std::path::PathBuf;

use ferric_conductor::inspection::rules::RuleSettings;
use ferric_types::inspection_rules::built_in_rules_from_json;
use ferric_types::Timestamp;
use serde::Deserialize;
use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

/// The section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileInspectionRules {
    built_in_rules: Option<PathBuf>,
    mask_secrets: Option<String>,
}

impl FileInspectionRules {
    pub(crate) fn settings(&self) -> Result<RuleSettings, String> {
        let mask_secrets = match &self.mask_secrets {
            Some(m) => m
                .parse()
                .map_err(|e| format!("[inspection_rules] mask_secrets: {e}"))?,
            None => Default::default(),
        };
        let built_in = match &self.built_in_rules {
            None => Vec::new(),
            Some(path) => load(path)?,
        };
        Ok(RuleSettings {
            built_in,
            mask_secrets,
        })
    }
}

fn load(path: &PathBuf) -> Result<Vec<ferric_types::inspection_rules::InspectionRule>, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("[inspection_rules] built_in_rules: cannot read {shown}: {e}"))?;
    let docs = YamlLoader::load_from_str(&text)
        .map_err(|e| format!("[inspection_rules] built_in_rules: {shown} is not YAML: {e}"))?;
    let doc = docs
        .into_iter()
        .next()
        .map(to_json)
        .unwrap_or(Value::Array(Vec::new()));
    built_in_rules_from_json(&doc, Timestamp::now())
        .map_err(|e| format!("[inspection_rules] built_in_rules: {shown}: {e}"))
}

/// A YAML document as JSON (rules are plain data: maps, lists, scalars).
fn to_json(y: Yaml) -> Value {
    match y {
        Yaml::Real(text) => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::String(text), Value::Number),
        Yaml::Integer(i) => Value::from(i),
        Yaml::String(s) => Value::String(s),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Yaml::Hash(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s,
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        other => format!("{other:?}"),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_rules_load_from_yaml_and_bad_ones_are_named() {
        let dir = std::env::temp_dir().join(format!("ferric-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.yaml");
        std::fs::write(
            &good,
            "- description: lab machines\n  priority: 20000\n  conditions:\n    - op: is-true\n      args: {value: true}\n  actions:\n    - op: add-trait\n      args: {name: CUSTOM_LAB}\n",
        )
        .unwrap();
        let file = FileInspectionRules {
            built_in_rules: Some(good),
            mask_secrets: Some("sensitive".into()),
        };
        let s = file.settings().unwrap();
        assert_eq!(s.built_in.len(), 1);
        assert!(s.built_in[0].built_in);
        assert_eq!(s.built_in[0].priority, 20000);
        let bad = dir.join("bad.yaml");
        std::fs::write(&bad, "- actions:\n    - op: frobnicate\n").unwrap();
        let err = FileInspectionRules {
            built_in_rules: Some(bad),
            mask_secrets: None,
        }
        .settings()
        .unwrap_err();
        assert!(
            err.contains("built-in rule 1") && err.contains("action 1"),
            "{err}"
        );
        let err = FileInspectionRules {
            built_in_rules: None,
            mask_secrets: Some("sometimes".into()),
        }
        .settings()
        .unwrap_err();
        assert!(err.contains("mask_secrets"), "{err}");
    }
}
