//! The provision state machine as data: one table of (state, event) → state, the
//! API verbs that trigger events (with the microversion each needs), and the target
//! state a node heads for while in each state. The API and the conductor consult
//! this table; neither re-encodes it.

use std::fmt;
use std::str::FromStr;

use crate::provision::ProvisionState::{self, *};

/// What moves a node: an operator verb or a conductor-internal outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    Manage,
    Provide,
    Inspect,
    Clean,
    Adopt,
    Deploy,
    Rebuild,
    Delete,
    Abort,
    Rescue,
    Unrescue,
    Unhold,
    Service,
    /// The running work finished.
    Done,
    /// The running work failed.
    Fail,
    /// The work now waits for the ramdisk agent.
    Wait,
    /// The agent called back; work goes on.
    Resume,
    /// A step asked to hold.
    Hold,
}

impl Event {
    pub const ALL: [Event; 18] = [
        Event::Manage,
        Event::Provide,
        Event::Inspect,
        Event::Clean,
        Event::Adopt,
        Event::Deploy,
        Event::Rebuild,
        Event::Delete,
        Event::Abort,
        Event::Rescue,
        Event::Unrescue,
        Event::Unhold,
        Event::Service,
        Event::Done,
        Event::Fail,
        Event::Wait,
        Event::Resume,
        Event::Hold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Manage => "manage",
            Event::Provide => "provide",
            Event::Inspect => "inspect",
            Event::Clean => "clean",
            Event::Adopt => "adopt",
            Event::Deploy => "deploy",
            Event::Rebuild => "rebuild",
            Event::Delete => "delete",
            Event::Abort => "abort",
            Event::Rescue => "rescue",
            Event::Unrescue => "unrescue",
            Event::Unhold => "unhold",
            Event::Service => "service",
            Event::Done => "done",
            Event::Fail => "fail",
            Event::Wait => "wait",
            Event::Resume => "resume",
            Event::Hold => "hold",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every transition: (from, event, to).
pub const TRANSITIONS: &[(ProvisionState, Event, ProvisionState)] = &[
    (Enroll, Event::Manage, Verifying),
    (Verifying, Event::Done, Manageable),
    (Verifying, Event::Fail, Enroll),
    (Manageable, Event::Provide, Cleaning),
    (Manageable, Event::Clean, Cleaning),
    (Manageable, Event::Inspect, Inspecting),
    (Manageable, Event::Adopt, Adopting),
    (Available, Event::Deploy, Deploying),
    (Available, Event::Manage, Manageable),
    (Deploying, Event::Done, Active),
    (Deploying, Event::Fail, DeployFailed),
    (Deploying, Event::Wait, WaitCallBack),
    (Deploying, Event::Hold, DeployHold),
    (WaitCallBack, Event::Resume, Deploying),
    (WaitCallBack, Event::Hold, DeployHold),
    (WaitCallBack, Event::Fail, DeployFailed),
    (WaitCallBack, Event::Abort, DeployFailed),
    (WaitCallBack, Event::Delete, Deleting),
    (DeployHold, Event::Unhold, WaitCallBack),
    (DeployHold, Event::Abort, DeployFailed),
    (DeployFailed, Event::Deploy, Deploying),
    (DeployFailed, Event::Rebuild, Deploying),
    (DeployFailed, Event::Delete, Deleting),
    (Active, Event::Rebuild, Deploying),
    (Active, Event::Delete, Deleting),
    (Active, Event::Rescue, Rescuing),
    (Active, Event::Service, Servicing),
    (Error, Event::Rebuild, Deploying),
    (Error, Event::Delete, Deleting),
    (Deleting, Event::Clean, Cleaning),
    (Deleting, Event::Fail, Error),
    (Cleaning, Event::Done, Available),
    (Cleaning, Event::Manage, Manageable),
    (Cleaning, Event::Fail, CleanFailed),
    (Cleaning, Event::Wait, CleanWait),
    (Cleaning, Event::Hold, CleanHold),
    (CleanWait, Event::Resume, Cleaning),
    (CleanWait, Event::Hold, CleanHold),
    (CleanWait, Event::Fail, CleanFailed),
    (CleanWait, Event::Abort, CleanFailed),
    (CleanHold, Event::Unhold, CleanWait),
    (CleanHold, Event::Abort, CleanFailed),
    (CleanFailed, Event::Manage, Manageable),
    (Inspecting, Event::Done, Manageable),
    (Inspecting, Event::Wait, InspectWait),
    (Inspecting, Event::Fail, InspectFailed),
    (InspectWait, Event::Done, Manageable),
    (InspectWait, Event::Resume, Inspecting),
    (InspectWait, Event::Fail, InspectFailed),
    (InspectWait, Event::Abort, InspectFailed),
    (InspectFailed, Event::Manage, Manageable),
    (InspectFailed, Event::Inspect, Inspecting),
    (Adopting, Event::Done, Active),
    (Adopting, Event::Fail, AdoptFailed),
    (AdoptFailed, Event::Adopt, Adopting),
    (AdoptFailed, Event::Manage, Manageable),
    (Rescuing, Event::Done, Rescue),
    (Rescuing, Event::Wait, RescueWait),
    (Rescuing, Event::Fail, RescueFailed),
    (RescueWait, Event::Resume, Rescuing),
    (RescueWait, Event::Fail, RescueFailed),
    (RescueWait, Event::Abort, RescueFailed),
    (RescueWait, Event::Delete, Deleting),
    (Rescue, Event::Rescue, Rescuing),
    (Rescue, Event::Unrescue, Unrescuing),
    (Rescue, Event::Delete, Deleting),
    (RescueFailed, Event::Rescue, Rescuing),
    (RescueFailed, Event::Unrescue, Unrescuing),
    (RescueFailed, Event::Delete, Deleting),
    (UnrescueFailed, Event::Rescue, Rescuing),
    (UnrescueFailed, Event::Unrescue, Unrescuing),
    (UnrescueFailed, Event::Delete, Deleting),
    (Unrescuing, Event::Done, Active),
    (Unrescuing, Event::Fail, UnrescueFailed),
    (Servicing, Event::Done, Active),
    (Servicing, Event::Fail, ServiceFailed),
    (Servicing, Event::Wait, ServiceWait),
    (Servicing, Event::Hold, ServiceHold),
    (ServiceWait, Event::Resume, Servicing),
    (ServiceWait, Event::Hold, ServiceHold),
    (ServiceWait, Event::Fail, ServiceFailed),
    (ServiceWait, Event::Abort, ServiceFailed),
    (ServiceWait, Event::Delete, Deleting),
    (ServiceHold, Event::Service, Servicing),
    (ServiceHold, Event::Unhold, ServiceWait),
    (ServiceHold, Event::Fail, ServiceFailed),
    (ServiceHold, Event::Abort, ServiceFailed),
    (ServiceFailed, Event::Service, Servicing),
    (ServiceFailed, Event::Rescue, Rescuing),
    (ServiceFailed, Event::Wait, ServiceWait),
    (ServiceFailed, Event::Hold, ServiceHold),
    (ServiceFailed, Event::Delete, Deleting),
    (ServiceFailed, Event::Abort, Active),
];

/// The state `event` leads to from `state`, if the transition exists.
pub fn next(state: ProvisionState, event: Event) -> Option<ProvisionState> {
    TRANSITIONS
        .iter()
        .find(|(from, ev, _)| *from == state && *ev == event)
        .map(|(_, _, to)| *to)
}

/// A `target` of `PUT /v1/nodes/{node}/states/provision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verb {
    /// The word the client sends (`active`, `deploy`, `deleted`…).
    pub name: &'static str,
    pub event: Event,
    /// The microversion that introduced it.
    pub since: u16,
}

/// Every provision verb.
pub const VERBS: &[Verb] = &[
    Verb {
        name: "manage",
        event: Event::Manage,
        since: 4,
    },
    Verb {
        name: "provide",
        event: Event::Provide,
        since: 4,
    },
    Verb {
        name: "inspect",
        event: Event::Inspect,
        since: 6,
    },
    Verb {
        name: "clean",
        event: Event::Clean,
        since: 15,
    },
    Verb {
        name: "adopt",
        event: Event::Adopt,
        since: 17,
    },
    Verb {
        name: "active",
        event: Event::Deploy,
        since: 1,
    },
    Verb {
        name: "deploy",
        event: Event::Deploy,
        since: 73,
    },
    Verb {
        name: "rebuild",
        event: Event::Rebuild,
        since: 1,
    },
    Verb {
        name: "deleted",
        event: Event::Delete,
        since: 1,
    },
    Verb {
        name: "undeploy",
        event: Event::Delete,
        since: 73,
    },
    Verb {
        name: "abort",
        event: Event::Abort,
        since: 13,
    },
    Verb {
        name: "rescue",
        event: Event::Rescue,
        since: 38,
    },
    Verb {
        name: "unrescue",
        event: Event::Unrescue,
        since: 38,
    },
    Verb {
        name: "unhold",
        event: Event::Unhold,
        since: 85,
    },
    Verb {
        name: "service",
        event: Event::Service,
        since: 87,
    },
];

impl Verb {
    /// The verb a client's word names.
    pub fn named(name: &str) -> Option<Verb> {
        VERBS.iter().find(|v| v.name == name).copied()
    }
}

/// On the wire (RPC), a verb is its word.
impl serde::Serialize for Verb {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

impl<'de> serde::Deserialize<'de> for Verb {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Verb::named(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown provision verb {name}")))
    }
}

/// Why a string is not a provision verb.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a provision verb")]
pub struct UnknownVerb(pub String);

impl FromStr for Verb {
    type Err = UnknownVerb;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VERBS
            .iter()
            .copied()
            .find(|v| v.name == s)
            .ok_or_else(|| UnknownVerb(s.to_string()))
    }
}

/// The stable state a node heads for while in `state`. `manual_clean` tells a
/// manual clean (which ends in `manageable`) from an automated one.
pub fn target_of(state: ProvisionState, manual_clean: bool) -> Option<ProvisionState> {
    match state {
        Enroll | Manageable | Available | Active | Error | Rescue => None,
        Verifying => Some(Manageable),
        Deploying | WaitCallBack | DeployHold | DeployFailed => Some(Active),
        Cleaning | CleanWait | CleanHold | CleanFailed if manual_clean => Some(Manageable),
        Cleaning | CleanWait | CleanHold | CleanFailed => Some(Available),
        Deleting => Some(Available),
        Inspecting | InspectWait | InspectFailed => Some(Manageable),
        Adopting | AdoptFailed => Some(Active),
        Rescuing | RescueWait | RescueFailed => Some(Rescue),
        Unrescuing | UnrescueFailed => Some(Active),
        Servicing | ServiceWait | ServiceHold | ServiceFailed => Some(Active),
    }
}

/// Whether a node in `state` heading for `target` is in a manual clean (one an
/// operator started from `manageable`, which ends there) rather than an
/// automated one (which ends in `available`).
pub fn is_manual_clean(state: ProvisionState, target: Option<ProvisionState>) -> bool {
    matches!(state, Cleaning | CleanWait | CleanHold | CleanFailed) && target == Some(Manageable)
}

/// The target of a node that moves from `from`, heading for `target`, along
/// `event` into `to`. The one place that decides it, so every way a step ends —
/// inline, through an agent's heartbeat, a wait's timeout, a restart or an
/// abort — leaves the same target: a manual clean stays one through its waits,
/// holds and failure.
pub fn target_after(
    from: ProvisionState,
    target: Option<ProvisionState>,
    event: Event,
    to: ProvisionState,
) -> Option<ProvisionState> {
    let manual_clean =
        (from == Manageable && event == Event::Clean) || is_manual_clean(from, target);
    target_of(to, manual_clean)
}

/// True for states a conductor restart must not leave a node in: work was running
/// in-process and is lost.
pub fn is_interrupted_on_restart(state: ProvisionState) -> bool {
    matches!(
        state,
        Deploying
            | Cleaning
            | Verifying
            | Inspecting
            | Adopting
            | Rescuing
            | Unrescuing
            | Deleting
            | Servicing
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The transitions as the specification writes them, parsed independently of the
    /// table above: `state: event→target, …` per line.
    const SPEC: &str = "\
        enroll: manage→verifying
        verifying: done→manageable, fail→enroll
        manageable: provide→cleaning, clean→cleaning, inspect→inspecting, adopt→adopting
        available: deploy→deploying, manage→manageable
        deploying: done→active, fail→deploy failed, wait→wait call-back, hold→deploy hold
        wait call-back: resume→deploying, hold→deploy hold, fail→deploy failed, abort→deploy failed, delete→deleting
        deploy hold: unhold→wait call-back, abort→deploy failed
        deploy failed: deploy→deploying, rebuild→deploying, delete→deleting
        active: rebuild→deploying, delete→deleting, rescue→rescuing, service→servicing
        error: rebuild→deploying, delete→deleting
        deleting: clean→cleaning, fail→error
        cleaning: done→available, manage→manageable, fail→clean failed, wait→clean wait, hold→clean hold
        clean wait: resume→cleaning, hold→clean hold, fail→clean failed, abort→clean failed
        clean hold: unhold→clean wait, abort→clean failed
        clean failed: manage→manageable
        inspecting: done→manageable, wait→inspect wait, fail→inspect failed
        inspect wait: done→manageable, resume→inspecting, fail→inspect failed, abort→inspect failed
        inspect failed: manage→manageable, inspect→inspecting
        adopting: done→active, fail→adopt failed
        adopt failed: adopt→adopting, manage→manageable
        rescuing: done→rescue, wait→rescue wait, fail→rescue failed
        rescue wait: resume→rescuing, fail→rescue failed, abort→rescue failed, delete→deleting
        rescue: rescue→rescuing, unrescue→unrescuing, delete→deleting
        rescue failed: rescue→rescuing, unrescue→unrescuing, delete→deleting
        unrescue failed: rescue→rescuing, unrescue→unrescuing, delete→deleting
        unrescuing: done→active, fail→unrescue failed
        servicing: done→active, fail→service failed, wait→service wait, hold→service hold
        service wait: resume→servicing, hold→service hold, fail→service failed, abort→service failed, delete→deleting
        service hold: service→servicing, unhold→service wait, fail→service failed, abort→service failed
        service failed: service→servicing, rescue→rescuing, wait→service wait, hold→service hold, delete→deleting, abort→active";

    fn expected() -> Vec<(ProvisionState, &'static str, ProvisionState)> {
        let mut out = Vec::new();
        for line in SPEC.lines() {
            let (state, rest) = line.trim().split_once(": ").unwrap();
            let state: ProvisionState = state.parse().unwrap();
            for t in rest.split(", ") {
                let (event, to) = t.split_once('→').unwrap();
                out.push((state, event, to.parse().unwrap()));
            }
        }
        out
    }

    #[test]
    fn every_state_and_event_matches_the_spec() {
        let spec = expected();
        let mut checked = 0;
        for state in ProvisionState::ALL {
            for event in Event::ALL {
                let want = spec
                    .iter()
                    .find(|(s, e, _)| s == state && *e == event.as_str())
                    .map(|(_, _, to)| *to);
                assert_eq!(next(*state, event), want, "{state} × {event}");
                checked += 1;
            }
        }
        assert_eq!(checked, 30 * 18);
        assert_eq!(spec.len(), TRANSITIONS.len());
    }

    #[test]
    fn every_state_is_reachable_from_enroll() {
        let mut seen = vec![Enroll];
        let mut i = 0;
        while i < seen.len() {
            for (from, _, to) in TRANSITIONS {
                if *from == seen[i] && !seen.contains(to) {
                    seen.push(*to);
                }
            }
            i += 1;
        }
        assert_eq!(seen.len(), ProvisionState::ALL.len());
    }

    #[test]
    fn verbs() {
        assert_eq!("active".parse::<Verb>().unwrap().event, Event::Deploy);
        assert_eq!("undeploy".parse::<Verb>().unwrap().since, 73);
        assert!("bogus".parse::<Verb>().is_err());
        for verb in VERBS {
            assert!(
                TRANSITIONS.iter().any(|(_, e, _)| *e == verb.event),
                "{}",
                verb.name
            );
        }
    }

    #[test]
    fn targets() {
        assert_eq!(target_of(WaitCallBack, false), Some(Active));
        assert_eq!(target_of(Cleaning, true), Some(Manageable));
        assert_eq!(target_of(CleanWait, false), Some(Available));
        assert_eq!(target_of(Active, false), None);
    }

    #[test]
    fn a_manual_clean_keeps_its_target_whichever_way_it_ends() {
        let manual = Some(Manageable);
        assert_eq!(
            target_after(Manageable, None, Event::Clean, Cleaning),
            manual
        );
        assert_eq!(
            target_after(Manageable, None, Event::Provide, Cleaning),
            Some(Available)
        );
        assert_eq!(
            target_after(Deleting, Some(Available), Event::Clean, Cleaning),
            Some(Available)
        );
        for (from, event, to) in [
            (Cleaning, Event::Fail, CleanFailed),
            (Cleaning, Event::Wait, CleanWait),
            (CleanWait, Event::Fail, CleanFailed),
            (CleanWait, Event::Abort, CleanFailed),
            (CleanWait, Event::Resume, Cleaning),
        ] {
            assert_eq!(
                target_after(from, manual, event, to),
                manual,
                "{from} {event}"
            );
            assert_eq!(
                target_after(from, Some(Available), event, to),
                Some(Available),
                "{from} {event}"
            );
        }
        assert_eq!(
            target_after(CleanFailed, manual, Event::Manage, Manageable),
            None
        );
    }
}
