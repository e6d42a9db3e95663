//! What the API hands a conductor beyond a node's id: a provision request, an
//! agent's heartbeat, a boot setting, where a VIF should go. Serialisable; the ones
//! carrying secrets (a rescue password, an agent token) never print them.

use ferric_types::deploy_template::TemplateStep;
use ferric_types::fsm::Verb;
use ferric_types::history::Requester;
use ferric_types::{PortGroupId, PortId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A provision request as the API validated it.
#[derive(Clone, Serialize, Deserialize)]
pub struct ProvisionRequest {
    pub verb: Verb,
    /// A config drive for `active`/`rebuild` (URL, gzipped base64 ISO, or JSON).
    pub configdrive: Option<Value>,
    pub clean_steps: Option<Vec<Value>>,
    pub service_steps: Option<Vec<Value>>,
    pub deploy_steps: Option<Vec<TemplateStep>>,
    pub rescue_password: Option<String>,
    pub disable_ramdisk: Option<bool>,
    /// Who asked, for the node's history.
    pub requester: Requester,
}

impl std::fmt::Debug for ProvisionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisionRequest")
            .field("verb", &self.verb.name)
            .field("clean_steps", &self.clean_steps)
            .field("service_steps", &self.service_steps)
            .field("deploy_steps", &self.deploy_steps)
            .field(
                "rescue_password",
                &self.rescue_password.as_ref().map(|_| "******"),
            )
            .field("disable_ramdisk", &self.disable_ramdisk)
            .field("requester", &self.requester)
            .finish_non_exhaustive()
    }
}

impl ProvisionRequest {
    pub fn new(verb: Verb) -> Self {
        Self {
            verb,
            configdrive: None,
            clean_steps: None,
            service_steps: None,
            deploy_steps: None,
            rescue_password: None,
            disable_ramdisk: None,
            requester: Requester::default(),
        }
    }
}

/// What an agent's heartbeat carries (no Debug: it holds the agent token).
#[derive(Clone, Serialize, Deserialize)]
pub struct AgentHeartbeat {
    /// The agent token it was sent with: checked again under the node's lock, since
    /// the node may have forgotten that agent (powered off, moved on) meanwhile.
    pub token: String,
    pub callback_url: String,
    pub agent_version: Option<String>,
    /// The agent's self-signed certificate (PEM), when it serves https.
    pub verify_ca: Option<String>,
    pub status: Option<String>,
    pub status_message: Option<String>,
}

/// A firmware boot setting or virtual media change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootSetting {
    Mode(String),
    SecureBoot(bool),
    /// Insert an image as a virtual device (`cdrom`, `disk`, `floppy`).
    AttachMedia {
        device: String,
        url: String,
    },
    /// Eject the given virtual devices (all when empty).
    DetachMedia(Vec<String>),
}

/// Where a VIF was asked to go (API 1.67), if anywhere in particular.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct VifTarget {
    pub port: Option<PortId>,
    pub portgroup: Option<PortGroupId>,
}
