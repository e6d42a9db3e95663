//! `[inspector]` of ferricd's TOML file: what inspection does with the NICs it
//! finds, under Ironic's option names — `add_ports` (all, active, pxe, disabled;
//! default pxe), `keep_ports` (all, present, added; default all),
//! `update_pxe_enabled` (default true) and `physical_network_cidr_map` (a list of
//! `<CIDR>:<physical network>`, or one comma-separated string as in ironic.conf).
//! Checked when ferricd starts; a bad value stops it with the option named.

use ferric_conductor::inspection::{CidrMap, InspectorSettings};
use serde::Deserialize;

/// A list option written either as a TOML list or as oslo.config's comma-separated
/// string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ListOpt {
    List(Vec<String>),
    Text(String),
}

impl ListOpt {
    fn items(&self) -> Vec<String> {
        match self {
            ListOpt::List(l) => l.clone(),
            ListOpt::Text(t) => t
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }
}

/// The section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileInspector {
    add_ports: Option<String>,
    keep_ports: Option<String>,
    update_pxe_enabled: Option<bool>,
    physical_network_cidr_map: Option<ListOpt>,
}

impl FileInspector {
    /// The settings the conductor runs inspection with.
    pub(crate) fn settings(&self) -> Result<InspectorSettings, String> {
        let d = InspectorSettings::default();
        Ok(InspectorSettings {
            add_ports: self
                .add_ports
                .as_deref()
                .map(str::parse)
                .transpose()?
                .unwrap_or(d.add_ports),
            keep_ports: self
                .keep_ports
                .as_deref()
                .map(str::parse)
                .transpose()?
                .unwrap_or(d.keep_ports),
            update_pxe_enabled: self.update_pxe_enabled.unwrap_or(d.update_pxe_enabled),
            physical_network_cidr_map: match &self.physical_network_cidr_map {
                Some(list) => CidrMap::parse(&list.items())?,
                None => d.physical_network_cidr_map,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferric_conductor::inspection::{AddPorts, KeepPorts};

    fn parse(text: &str) -> Result<InspectorSettings, String> {
        toml::from_str::<FileInspector>(text)
            .map_err(|e| e.to_string())?
            .settings()
    }

    #[test]
    fn ironics_names_and_defaults() {
        let d = parse("").unwrap();
        assert_eq!((d.add_ports, d.keep_ports), (AddPorts::Pxe, KeepPorts::All));
        assert!(d.update_pxe_enabled && d.physical_network_cidr_map.is_empty());
        let s = parse(
            "add_ports = \"all\"\nkeep_ports = \"present\"\nupdate_pxe_enabled = false\n\
             physical_network_cidr_map = [\"10.10.10.0/24:physnet_a\"]\n",
        )
        .unwrap();
        assert_eq!(
            (s.add_ports, s.keep_ports),
            (AddPorts::All, KeepPorts::Present)
        );
        assert!(!s.update_pxe_enabled);
        let ip = "10.10.10.9".parse().unwrap();
        assert_eq!(
            s.physical_network_cidr_map.physical_network(&[ip]),
            Some("physnet_a")
        );
        // oslo.config's comma-separated form.
        let s = parse(
            "physical_network_cidr_map = \"10.10.10.0/24:physnet_a, 2001:db8::/64:physnet_b\"",
        )
        .unwrap();
        let ip6 = "2001:db8::9".parse().unwrap();
        assert_eq!(
            s.physical_network_cidr_map.physical_network(&[ip6]),
            Some("physnet_b")
        );
    }

    #[test]
    fn bad_values_name_the_option() {
        for (text, want) in [
            ("add_ports = \"some\"", "add_ports"),
            ("keep_ports = \"none\"", "keep_ports"),
            (
                "physical_network_cidr_map = [\"10.0.0.1/24:x\"]",
                "physical_network_cidr_map",
            ),
            ("hooks = \"ports\"", "unknown field"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
