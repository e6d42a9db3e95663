//! The rack's cabling, as LLDP shows it. Machines sit in groups of 48 under a pair
//! of top-of-rack switches (`sim-leaf-000a` and `sim-leaf-000b`, …), each with a
//! chassis MAC of its own and ports `Ethernet1/1`…`Ethernet1/48`: machine `i`'s
//! boot NIC plugs into port `i % 48 + 1` of its group's `a` switch, its second NIC
//! into the same port of the `b` switch. Each switch port sends the LLDP frame a
//! real switch would (chassis MAC, port name, TTL, port description, system name),
//! so an inspected machine's ports get `switch_id` = the chassis MAC, `port_id` =
//! the port name and `switch_info` = the system name — what a `[[network.switches]]`
//! entry (`switch_id` or `switch_info`) and its driver's port names must match.

use ferric_types::lldp::{encode_frame, Tlv};

/// Machines (ports) per switch.
pub const PORTS_PER_SWITCH: usize = 48;
/// How long a receiver may keep the information, in seconds (a common default).
const TTL: u16 = 120;

/// One simulated switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimSwitch {
    /// Its LLDP system name.
    pub name: String,
    pub chassis_mac: [u8; 6],
}

impl SimSwitch {
    /// Switch `side` (0 = `a`, 1 = `b`) of group `group`.
    pub fn new(group: usize, side: usize) -> Self {
        let letter = if side == 0 { 'a' } else { 'b' };
        Self {
            name: format!("sim-leaf-{group:03}{letter}"),
            // Locally administered, unicast.
            chassis_mac: [
                0x02,
                0x5e,
                (group >> 16) as u8,
                (group >> 8) as u8,
                group as u8,
                side as u8,
            ],
        }
    }

    /// The chassis MAC as ports' `switch_id` holds it.
    pub fn switch_id(&self) -> String {
        ferric_types::MacAddress::from(self.chassis_mac).to_string()
    }

    /// The LLDP frame switch port `port` sends the NIC cabled to it.
    pub fn lldp_frame(&self, port: &str, description: &str) -> Vec<u8> {
        let tlvs = [
            Tlv::chassis_mac(self.chassis_mac),
            Tlv::port_name(port),
            Tlv::ttl(TTL),
            Tlv::port_description(description),
            Tlv::system_name(&self.name),
        ];
        // Names this short always fit in a TLV; an empty frame would just be
        // heard as nothing.
        encode_frame(self.chassis_mac, &tlvs).unwrap_or_default()
    }
}

/// Where a NIC plugs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchPort {
    pub switch: SimSwitch,
    /// The port's name (`Ethernet1/7`).
    pub port: String,
}

/// The switch port machine `i`'s NIC `nic` (0 = the boot NIC) is cabled to.
pub fn cabling(i: usize, nic: usize) -> SwitchPort {
    SwitchPort {
        switch: SimSwitch::new(i / PORTS_PER_SWITCH, nic.min(1)),
        port: format!("Ethernet1/{}", i % PORTS_PER_SWITCH + 1),
    }
}

/// Every switch a rack of `machines` machines uses.
pub fn switches(machines: usize) -> Vec<SimSwitch> {
    (0..machines.div_ceil(PORTS_PER_SWITCH))
        .flat_map(|g| [SimSwitch::new(g, 0), SimSwitch::new(g, 1)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferric_types::lldp::{parse_frame, LocalLink};

    #[test]
    fn machines_are_cabled_48_to_a_switch_pair() {
        let first = cabling(0, 0);
        assert_eq!(first.switch.name, "sim-leaf-000a");
        assert_eq!(first.port, "Ethernet1/1");
        assert_eq!(cabling(47, 1).port, "Ethernet1/48");
        assert_eq!(cabling(47, 1).switch.name, "sim-leaf-000b");
        assert_eq!(cabling(48, 0).switch.name, "sim-leaf-001a");
        assert_eq!(cabling(48, 0).port, "Ethernet1/1");
        assert_eq!(first.switch.switch_id(), "02:5e:00:00:00:00");
        assert_eq!(cabling(300, 1).switch.switch_id(), "02:5e:00:00:06:01");
        assert_eq!(switches(49).len(), 4);
        assert_eq!(switches(48).len(), 2);
    }

    #[test]
    fn a_port_frame_names_the_switch_and_the_port() {
        let p = cabling(100, 1);
        let tlvs = parse_frame(&p.switch.lldp_frame(&p.port, "sim-00100 nic 1")).unwrap();
        let link = LocalLink::from_tlvs(&tlvs).unwrap();
        assert_eq!(link.switch_id, Some(p.switch.switch_id()));
        assert_eq!(link.port_id.as_deref(), Some("Ethernet1/5"));
        assert_eq!(link.switch_info.as_deref(), Some("sim-leaf-002b"));
    }
}
