//! Ironic's automatic lessee: a node deployed for a project that does not lease it
//! yet is leased to that project while deployed, so the project can manage its
//! instance's node; the lease goes when the node is torn down. The project comes
//! from the instance (`instance_info.project_id`, what Nova sets) or from the
//! request's token, as `[conductor] automatic_lessee_source` says.

use ferric_types::history::Requester;
use ferric_types::Node;
use serde_json::Value;

/// `driver_internal_info` flag: the lessee was set automatically.
const FLAG: &str = "automatic_lessee";

/// Where the automatic lessee comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LesseeSource {
    /// `instance_info.project_id`.
    #[default]
    Instance,
    /// The project of the request that deploys.
    Request,
    /// Never set automatically.
    None,
}

impl std::str::FromStr for LesseeSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "instance" => Ok(Self::Instance),
            "request" => Ok(Self::Request),
            "none" => Ok(Self::None),
            other => Err(format!(
                "automatic_lessee_source {other:?} is not instance, request or none"
            )),
        }
    }
}

/// At deploy: leases the node to the project it is deployed for, if it has no lessee.
pub fn on_deploy(node: &mut Node, source: LesseeSource, requester: &Requester) {
    if node.lessee.as_deref().is_some_and(|l| !l.is_empty()) {
        return;
    }
    let project = match source {
        LesseeSource::Instance => node
            .instance_info
            .get("project_id")
            .and_then(Value::as_str)
            .map(str::to_string),
        LesseeSource::Request => requester.project.clone(),
        LesseeSource::None => None,
    };
    if let Some(p) = project.filter(|p| !p.is_empty()) {
        node.lessee = Some(p);
        node.driver_internal_info
            .insert(FLAG.into(), Value::Bool(true));
    }
}

/// At teardown: ends an automatic lease.
pub fn on_teardown(node: &mut Node) {
    if node.driver_internal_info.remove(FLAG) == Some(Value::Bool(true)) {
        node.lessee = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferric_types::provision::ProvisionState;
    use ferric_types::{NodeId, Timestamp};

    fn node() -> Node {
        Node::new(
            NodeId::new_v4(),
            "fake-hardware".into(),
            ProvisionState::Available,
            Timestamp::now(),
        )
    }

    #[test]
    fn a_deployed_node_is_leased_to_its_instances_project_until_teardown() {
        let mut n = node();
        n.instance_info
            .insert("project_id".into(), Value::from("p1"));
        on_deploy(&mut n, LesseeSource::Instance, &Requester::default());
        assert_eq!(n.lessee.as_deref(), Some("p1"));
        on_teardown(&mut n);
        assert_eq!(n.lessee, None);

        // A lessee set by hand stays.
        n.lessee = Some("mine".into());
        on_deploy(&mut n, LesseeSource::Instance, &Requester::default());
        on_teardown(&mut n);
        assert_eq!(n.lessee.as_deref(), Some("mine"));

        let mut n = node();
        let who = Requester {
            user: Some("u".into()),
            project: Some("p2".into()),
            request_id: None,
        };
        on_deploy(&mut n, LesseeSource::Request, &who);
        assert_eq!(n.lessee.as_deref(), Some("p2"));
        let mut n = node();
        on_deploy(&mut n, LesseeSource::None, &who);
        assert_eq!(n.lessee, None);
        assert!("bogus".parse::<LesseeSource>().is_err());
    }
}
