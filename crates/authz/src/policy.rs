//! The policy in force: Ironic's defaults with an operator's overrides, and the
//! decision whether a principal may apply a rule to a target.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

use crate::check::{resolve, Check, Kind, ParseError};
use crate::defaults::{Scopes, RULES};
use crate::principal::{Principal, Scope};

/// How deep `rule:` references may nest (cycles are refused at load time).
const MAX_DEPTH: usize = 32;

/// The object an action is about, as the values check strings substitute:
/// `node.owner`, `node.lessee`, `allocation.owner`. An absent (null) value never
/// matches.
#[derive(Debug, Clone, Default)]
pub struct Target {
    fields: Vec<(&'static str, String)>,
}

impl Target {
    /// No object: system resources, creations.
    pub fn none() -> Target {
        Target::default()
    }

    /// A node, by its owner and lessee projects.
    pub fn node(owner: Option<&str>, lessee: Option<&str>) -> Target {
        Target::none()
            .with("node.owner", owner)
            .with("node.lessee", lessee)
    }

    /// An allocation, by its owner project.
    pub fn allocation(owner: Option<&str>) -> Target {
        Target::none().with("allocation.owner", owner)
    }

    /// A runbook, by its owner project.
    pub fn runbook(owner: Option<&str>) -> Target {
        Target::none().with("runbook.owner", owner)
    }

    /// Adds `key` if it has a value.
    pub fn with(mut self, key: &'static str, value: Option<&str>) -> Target {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.fields.push((key, v.to_string()));
        }
        self
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A policy that cannot be used; ferricd does not start with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The file cannot be read or is not a mapping of rule names to strings.
    File(String),
    /// A rule's check string does not parse.
    Rule { rule: String, error: ParseError },
    /// A rule refers to a rule that does not exist.
    Undefined { rule: String, missing: String },
    /// Rules refer to each other in a circle.
    Cycle(Vec<String>),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::File(m) => f.write_str(m),
            PolicyError::Rule { rule, error } => write!(f, "rule \"{rule}\": {error}"),
            PolicyError::Undefined { rule, missing } => {
                write!(
                    f,
                    "rule \"{rule}\" refers to rule \"{missing}\", which is not defined"
                )
            }
            PolicyError::Cycle(path) => write!(
                f,
                "rules refer to each other in a circle: {}",
                path.join(" -> ")
            ),
        }
    }
}

impl std::error::Error for PolicyError {}

/// Rules by name, and which of them accept system-scoped callers only.
#[derive(Debug, Clone)]
pub struct Policy {
    rules: HashMap<String, Check>,
    system_only: HashSet<&'static str>,
}

impl Default for Policy {
    fn default() -> Self {
        Self::ironic_defaults()
    }
}

impl Policy {
    /// Ironic's default rules.
    pub fn ironic_defaults() -> Policy {
        let rules = RULES
            .iter()
            .map(|(name, text, _)| {
                let check = Check::parse(text).expect("the default rules parse");
                (name.to_string(), check)
            })
            .collect();
        let system_only = RULES
            .iter()
            .filter(|(_, _, s)| *s == Scopes::SystemOnly)
            .map(|(n, _, _)| *n)
            .collect();
        Policy { rules, system_only }
    }

    /// The defaults with the rules of a `policy.yaml` (or JSON) file put over them.
    pub fn from_file(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyError::File(format!("cannot read {}: {e}", path.display())))?;
        Policy::with_overrides(&text).map_err(|e| match e {
            PolicyError::File(m) => PolicyError::File(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The defaults with the rules of a YAML mapping (rule name → check string) put
    /// over them. Rules not among Ironic's may be added for `rule:` to refer to.
    pub fn with_overrides(text: &str) -> Result<Policy, PolicyError> {
        let docs = YamlLoader::load_from_str(text)
            .map_err(|e| PolicyError::File(format!("not YAML: {e}")))?;
        let mut policy = Policy::ironic_defaults();
        let Some(doc) = docs.into_iter().next() else {
            return Ok(policy);
        };
        let map = match doc {
            Yaml::Hash(map) => map,
            Yaml::Null => return Ok(policy),
            _ => {
                return Err(PolicyError::File(
                    "a policy file maps rule names to check strings".into(),
                ))
            }
        };
        for (key, value) in map {
            let Yaml::String(name) = key else {
                return Err(PolicyError::File(format!(
                    "rule name {key:?} is not a string"
                )));
            };
            let text = match value {
                Yaml::String(s) => s,
                Yaml::Null => String::new(),
                other => {
                    return Err(PolicyError::File(format!(
                        "rule \"{name}\": the check is not a string ({other:?})"
                    )))
                }
            };
            let check = Check::parse(&text).map_err(|error| PolicyError::Rule {
                rule: name.clone(),
                error,
            })?;
            policy.rules.insert(name, check);
        }
        policy.validate()?;
        Ok(policy)
    }

    /// Every `rule:` reference resolves, and none goes round in a circle.
    fn validate(&self) -> Result<(), PolicyError> {
        let mut names: Vec<&String> = self.rules.keys().collect();
        names.sort();
        let mut done: HashSet<&str> = HashSet::new();
        for name in names {
            let mut path = Vec::new();
            self.visit(name, &mut path, &mut done)?;
        }
        Ok(())
    }

    fn visit<'a>(
        &'a self,
        name: &'a str,
        path: &mut Vec<String>,
        done: &mut HashSet<&'a str>,
    ) -> Result<(), PolicyError> {
        if done.contains(name) {
            return Ok(());
        }
        if let Some(at) = path.iter().position(|p| p == name) {
            let mut cycle = path[at..].to_vec();
            cycle.push(name.to_string());
            return Err(PolicyError::Cycle(cycle));
        }
        let Some((key, check)) = self.rules.get_key_value(name) else {
            return Ok(());
        };
        let mut refs = Vec::new();
        check.references(&mut refs);
        path.push(name.to_string());
        for r in refs {
            if !self.rules.contains_key(&r) {
                return Err(PolicyError::Undefined {
                    rule: name.to_string(),
                    missing: r,
                });
            }
            let (r, _) = self.rules.get_key_value(&r).expect("checked above");
            self.visit(r, path, done)?;
        }
        path.pop();
        done.insert(key);
        Ok(())
    }

    /// Whether the rule is defined.
    pub fn has_rule(&self, rule: &str) -> bool {
        self.rules.contains_key(rule)
    }

    /// Whether `who` may do what `rule` guards to `target`. An unknown rule, a scope
    /// the rule does not accept, or a domain or unscoped caller: no.
    pub fn allows(&self, rule: &str, who: &Principal, target: &Target) -> bool {
        if who.scope == Scope::Unscoped {
            return false;
        }
        if self.system_only.contains(rule) && !who.is_system() {
            return false;
        }
        match self.rules.get(rule) {
            Some(check) => self.eval(check, who, target, 0),
            None => false,
        }
    }

    fn eval(&self, check: &Check, who: &Principal, target: &Target, depth: usize) -> bool {
        let lookup = |key: &str| target.get(key);
        match check {
            Check::Always => true,
            Check::Never => false,
            Check::Rule(name) => {
                depth < MAX_DEPTH
                    && self
                        .rules
                        .get(name)
                        .is_some_and(|c| self.eval(c, who, target, depth + 1))
            }
            Check::Role(m) => resolve(m, &lookup).is_some_and(|r| who.has_role(r)),
            Check::Generic { kind, value } => {
                let Some(value) = resolve(value, &lookup) else {
                    return false;
                };
                match kind {
                    Kind::Literal(l) => l == value,
                    Kind::Credential(k) if k == "roles" => who.has_role(value),
                    Kind::Credential(k) => who.credential(k).is_some_and(|c| c == value),
                }
            }
            Check::Not(inner) => !self.eval(inner, who, target, depth),
            Check::And(parts) => parts.iter().all(|p| self.eval(p, who, target, depth)),
            Check::Or(parts) => parts.iter().any(|p| self.eval(p, who, target, depth)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::expand_roles;

    fn project(id: &str, roles: &[&str]) -> Principal {
        Principal {
            user_id: "u".into(),
            user_name: "u".into(),
            scope: Scope::Project {
                id: id.into(),
                name: id.into(),
            },
            roles: expand_roles(roles),
        }
    }

    fn system(roles: &[&str]) -> Principal {
        Principal {
            scope: Scope::System,
            ..project("x", roles)
        }
    }

    #[test]
    fn owners_lessees_and_system_readers() {
        let p = Policy::ironic_defaults();
        let node = Target::node(Some("own"), Some("les"));
        assert!(p.allows("baremetal:node:get", &system(&["reader"]), &node));
        assert!(p.allows("baremetal:node:get", &project("les", &["reader"]), &node));
        assert!(!p.allows("baremetal:node:get", &project("other", &["admin"]), &node));
        assert!(p.allows(
            "baremetal:node:update:driver_info",
            &project("own", &["member"]),
            &node
        ));
        assert!(!p.allows(
            "baremetal:node:update:driver_info",
            &project("les", &["admin"]),
            &node
        ));
        assert!(p.allows(
            "baremetal:node:set_provision_state",
            &project("les", &["admin"]),
            &node
        ));
        assert!(!p.allows(
            "baremetal:node:set_provision_state",
            &project("les", &["member"]),
            &node
        ));
        assert!(!p.allows("baremetal:node:delete", &system(&["member"]), &node));
        // A null lessee never matches.
        let unleased = Target::node(Some("own"), None);
        assert!(!p.allows(
            "baremetal:node:get",
            &project("None", &["admin"]),
            &unleased
        ));
    }

    #[test]
    fn system_only_rules_refuse_project_scope() {
        let p = Policy::ironic_defaults();
        assert!(p.allows(
            "baremetal:chassis:get",
            &system(&["reader"]),
            &Target::none()
        ));
        assert!(!p.allows(
            "baremetal:chassis:get",
            &project("p", &["admin"]),
            &Target::none()
        ));
        let mut unscoped = system(&["admin"]);
        unscoped.scope = Scope::Unscoped;
        assert!(!p.allows("baremetal:node:list", &unscoped, &Target::none()));
    }

    #[test]
    fn overrides_replace_and_add_rules() {
        let p = Policy::with_overrides(
            "# lessees may read everything\n\"baremetal:node:get:last_error\": \"rule:readers\"\nreaders: \"role:reader\"\n",
        )
        .unwrap();
        let node = Target::node(Some("own"), Some("les"));
        assert!(p.allows(
            "baremetal:node:get:last_error",
            &project("les", &["reader"]),
            &node
        ));
        let p = Policy::with_overrides("{\"baremetal:node:list\": \"!\"}").unwrap();
        assert!(!p.allows("baremetal:node:list", &system(&["admin"]), &Target::none()));
    }

    #[test]
    fn bad_policies_name_the_rule_and_position() {
        let e = Policy::with_overrides("\"baremetal:node:get\": \"role:admin or\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "rule \"baremetal:node:get\": expected a check at column 14"
        );
        let e = Policy::with_overrides("a: rule:b\nb: rule:a\n").unwrap_err();
        assert!(matches!(e, PolicyError::Cycle(_)), "{e}");
        let e = Policy::with_overrides("a: rule:nope\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "rule \"a\" refers to rule \"nope\", which is not defined"
        );
        assert!(Policy::with_overrides("- a\n- b\n").is_err());
        assert!(Policy::with_overrides("a: [1]\n").is_err());
        assert!(Policy::with_overrides("a: 'x: y: z\n").is_err());
    }
}
