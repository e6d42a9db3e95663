//! LLDP (IEEE 802.1AB) as an inspection ramdisk hears it and Ironic stores it. A
//! switch sends each NIC an Ethernet frame (to `01:80:c2:00:00:0e`, ethertype
//! `0x88cc`) carrying an LLDPDU: a run of type-length-value records (7-bit type,
//! 9-bit length, the value) ending with the End TLV. Here: parsing a frame or a bare
//! LLDPDU into its TLVs, building them back, and ironic-python-agent's wire form —
//! per interface a list of `[type, "hex of the value"]` pairs. [`link`] reads the
//! switch port out of them. No I/O; bad input is an error, never a panic.

pub mod link;

use serde_json::Value;

pub use link::LocalLink;

/// The LLDP ethertype.
pub const ETHERTYPE: u16 = 0x88cc;
/// The nearest-bridge group address LLDP frames are sent to.
pub const NEAREST_BRIDGE: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];
/// The other two LLDP group addresses (nearest non-TPMR bridge, nearest customer
/// bridge), which some switches use.
pub const OTHER_GROUPS: [[u8; 6]; 2] = [
    [0x01, 0x80, 0xc2, 0x00, 0x00, 0x03],
    [0x01, 0x80, 0xc2, 0x00, 0x00, 0x00],
];
/// The longest value a TLV can carry (9 bits of length).
pub const MAX_VALUE_LEN: usize = 0x1ff;
/// The shortest Ethernet frame without its FCS; shorter frames are padded.
const MIN_FRAME: usize = 60;
/// Destination, source, ethertype.
const ETH_HEADER: usize = 14;
/// 802.1Q and 802.1ad tags, skipped on the way to the ethertype.
const VLAN_TAGS: [u16; 2] = [0x8100, 0x88a8];

/// TLV types of the basic management set (and the organisationally specific one).
pub mod kind {
    pub const END: u8 = 0;
    pub const CHASSIS_ID: u8 = 1;
    pub const PORT_ID: u8 = 2;
    pub const TTL: u8 = 3;
    pub const PORT_DESCRIPTION: u8 = 4;
    pub const SYSTEM_NAME: u8 = 5;
    pub const SYSTEM_DESCRIPTION: u8 = 6;
    pub const SYSTEM_CAPABILITIES: u8 = 7;
    pub const MANAGEMENT_ADDRESS: u8 = 8;
    pub const ORG_SPECIFIC: u8 = 127;
}

/// One TLV: its type (0–127) and its value (at most 511 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    pub kind: u8,
    pub value: Vec<u8>,
}

/// Why bytes or wire data are not LLDP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LldpError {
    #[error("the frame is {0} bytes, too short for an Ethernet header")]
    ShortFrame(usize),
    #[error("ethertype {0:#06x} is not LLDP (0x88cc)")]
    NotLldp(u16),
    #[error("the LLDPDU is empty")]
    Empty,
    #[error("the TLV header at byte {0} is cut short")]
    CutHeader(usize),
    #[error(
        "TLV type {kind} at byte {offset} declares {declared} bytes but only {available} follow"
    )]
    Truncated {
        offset: usize,
        kind: u8,
        declared: usize,
        available: usize,
    },
    #[error("TLV type {0} is out of range (0-127)")]
    BadType(u64),
    #[error("TLV type {kind} has a {len}-byte value; at most 511 fit")]
    TooLong { kind: u8, len: usize },
    #[error("{0}")]
    Wire(String),
    #[error("{0}")]
    Value(String),
}

impl Tlv {
    pub fn new(kind: u8, value: impl Into<Vec<u8>>) -> Self {
        Self {
            kind,
            value: value.into(),
        }
    }

    /// A chassis ID that is the switch's MAC address (subtype 4).
    pub fn chassis_mac(mac: [u8; 6]) -> Self {
        Self::new(kind::CHASSIS_ID, subtyped(4, &mac))
    }

    /// A port ID that is the port's interface name (subtype 5, `ifName`).
    pub fn port_name(name: &str) -> Self {
        Self::new(kind::PORT_ID, subtyped(5, name.as_bytes()))
    }

    /// A port ID the switch assigned locally (subtype 7).
    pub fn port_local(id: &str) -> Self {
        Self::new(kind::PORT_ID, subtyped(7, id.as_bytes()))
    }

    /// How long the receiver may keep this information, in seconds.
    pub fn ttl(seconds: u16) -> Self {
        Self::new(kind::TTL, seconds.to_be_bytes())
    }

    pub fn port_description(text: &str) -> Self {
        Self::new(kind::PORT_DESCRIPTION, text.as_bytes())
    }

    pub fn system_name(name: &str) -> Self {
        Self::new(kind::SYSTEM_NAME, name.as_bytes())
    }

    pub fn end() -> Self {
        Self::new(kind::END, Vec::new())
    }
}

fn subtyped(subtype: u8, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(value.len() + 1);
    v.push(subtype);
    v.extend_from_slice(value);
    v
}

/// Parses an LLDPDU (what follows the ethertype) into its TLVs, up to and including
/// the End TLV; whatever follows the End TLV (Ethernet padding) is ignored. A TLV
/// whose length runs past the data, or a header cut in half, is an error.
pub fn parse_lldpdu(bytes: &[u8]) -> Result<Vec<Tlv>, LldpError> {
    if bytes.is_empty() {
        return Err(LldpError::Empty);
    }
    let mut tlvs = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let Some(header) = bytes.get(at..at + 2) else {
            return Err(LldpError::CutHeader(at));
        };
        let header = u16::from_be_bytes([header[0], header[1]]);
        let kind = (header >> 9) as u8;
        let declared = usize::from(header & 0x1ff);
        let start = at + 2;
        let available = bytes.len() - start;
        if declared > available {
            return Err(LldpError::Truncated {
                offset: at,
                kind,
                declared,
                available,
            });
        }
        tlvs.push(Tlv::new(kind, &bytes[start..start + declared]));
        at = start + declared;
        if kind == kind::END {
            break;
        }
    }
    Ok(tlvs)
}

/// Parses a whole Ethernet frame (VLAN tags allowed) carrying an LLDPDU.
pub fn parse_frame(frame: &[u8]) -> Result<Vec<Tlv>, LldpError> {
    let ethertype_at = |offset: usize| {
        frame
            .get(offset..offset + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let mut offset = ETH_HEADER - 2;
    let mut ethertype = ethertype_at(offset).ok_or(LldpError::ShortFrame(frame.len()))?;
    while VLAN_TAGS.contains(&ethertype) {
        offset += 4;
        ethertype = ethertype_at(offset).ok_or(LldpError::ShortFrame(frame.len()))?;
    }
    if ethertype != ETHERTYPE {
        return Err(LldpError::NotLldp(ethertype));
    }
    parse_lldpdu(&frame[offset + 2..])
}

/// Builds an LLDPDU from TLVs, adding the End TLV when the list lacks it.
pub fn encode_lldpdu(tlvs: &[Tlv]) -> Result<Vec<u8>, LldpError> {
    let mut out = Vec::new();
    for t in tlvs {
        if t.kind > 127 {
            return Err(LldpError::BadType(u64::from(t.kind)));
        }
        if t.value.len() > MAX_VALUE_LEN {
            return Err(LldpError::TooLong {
                kind: t.kind,
                len: t.value.len(),
            });
        }
        let header = (u16::from(t.kind) << 9) | t.value.len() as u16;
        out.extend_from_slice(&header.to_be_bytes());
        out.extend_from_slice(&t.value);
    }
    if tlvs.last().map(|t| t.kind) != Some(kind::END) {
        out.extend_from_slice(&[0, 0]);
    }
    Ok(out)
}

/// Builds the Ethernet frame a switch port sends: from `source` to the
/// nearest-bridge group address, padded to the minimum frame size.
pub fn encode_frame(source: [u8; 6], tlvs: &[Tlv]) -> Result<Vec<u8>, LldpError> {
    let mut frame = Vec::with_capacity(MIN_FRAME);
    frame.extend_from_slice(&NEAREST_BRIDGE);
    frame.extend_from_slice(&source);
    frame.extend_from_slice(&ETHERTYPE.to_be_bytes());
    frame.extend(encode_lldpdu(tlvs)?);
    if frame.len() < MIN_FRAME {
        frame.resize(MIN_FRAME, 0);
    }
    Ok(frame)
}

/// The TLVs in ironic-python-agent's wire form: `[[type, "hex"], …]`.
pub fn to_ipa(tlvs: &[Tlv]) -> Value {
    Value::Array(
        tlvs.iter()
            .map(|t| Value::Array(vec![Value::from(t.kind), Value::from(hex(&t.value))]))
            .collect(),
    )
}

/// Reads ironic-python-agent's wire form back. Anything that is not a list of
/// `[type, "hex"]` pairs with a type of 0–127 and an even run of hex digits is an
/// error naming the first bad entry.
pub fn from_ipa(data: &Value) -> Result<Vec<Tlv>, LldpError> {
    let list = data
        .as_array()
        .ok_or_else(|| LldpError::Wire(format!("LLDP data must be a list, not {data}")))?;
    list.iter()
        .enumerate()
        .map(|(i, entry)| {
            let bad = |why: &str| LldpError::Wire(format!("LLDP entry {i} {why}"));
            let pair = entry
                .as_array()
                .filter(|p| p.len() == 2)
                .ok_or_else(|| bad("is not a [type, value] pair"))?;
            let kind = pair[0]
                .as_u64()
                .ok_or_else(|| bad("has a type that is not a number"))?;
            if kind > 127 {
                return Err(LldpError::BadType(kind));
            }
            let text = pair[1]
                .as_str()
                .ok_or_else(|| bad("has a value that is not a string"))?;
            let value = unhex(text).ok_or_else(|| bad("has a value that is not hexadecimal"))?;
            if value.len() > MAX_VALUE_LEN {
                return Err(LldpError::TooLong {
                    kind: kind as u8,
                    len: value.len(),
                });
            }
            Ok(Tlv::new(kind as u8, value))
        })
        .collect()
}

/// Lower-case hex, as Python's `binascii.hexlify` writes it.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Hex of either case back to bytes; `None` for an odd length or a non-hex digit.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let pairs = text.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|pair| {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A frame as a switch sends it, written out byte by byte: chassis MAC
    /// 00:1c:73:aa:bb:cc, port `Ethernet1/7`, TTL 120, system name `leaf-1`, End,
    /// then padding.
    const FRAME: &[u8] = &[
        0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, // destination
        0x00, 0x1c, 0x73, 0xaa, 0xbb, 0xcd, // source
        0x88, 0xcc, // ethertype
        0x02, 0x07, 0x04, 0x00, 0x1c, 0x73, 0xaa, 0xbb, 0xcc, // chassis ID, MAC
        0x04, 0x0c, 0x05, b'E', b't', b'h', b'e', b'r', b'n', b'e', b't', b'1', b'/',
        b'7', // port ID, ifName
        0x06, 0x02, 0x00, 0x78, // TTL 120
        0x0a, 0x06, b'l', b'e', b'a', b'f', b'-', b'1', // system name
        0x00, 0x00, // End
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // padding to 60 bytes
    ];

    #[test]
    fn a_switch_frame_parses_into_its_tlvs() {
        let tlvs = parse_frame(FRAME).unwrap();
        assert_eq!(
            tlvs,
            vec![
                Tlv::chassis_mac([0x00, 0x1c, 0x73, 0xaa, 0xbb, 0xcc]),
                Tlv::port_name("Ethernet1/7"),
                Tlv::ttl(120),
                Tlv::system_name("leaf-1"),
                Tlv::end(),
            ]
        );
        // The same LLDPDU without its Ethernet header.
        assert_eq!(parse_lldpdu(&FRAME[14..]).unwrap(), tlvs);
    }

    #[test]
    fn frames_are_built_back_byte_for_byte() {
        let tlvs = parse_frame(FRAME).unwrap();
        let built = encode_frame([0x00, 0x1c, 0x73, 0xaa, 0xbb, 0xcd], &tlvs).unwrap();
        assert_eq!(built, &FRAME[..built.len()]);
        assert_eq!(built.len(), 60, "padded to the minimum frame");
        // The End TLV is added when missing.
        let without_end = &tlvs[..tlvs.len() - 1];
        assert_eq!(
            encode_lldpdu(without_end).unwrap(),
            encode_lldpdu(&tlvs).unwrap()
        );
    }

    #[test]
    fn vlan_tagged_frames_parse() {
        let mut tagged = FRAME[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x64]);
        tagged.extend_from_slice(&FRAME[12..]);
        assert_eq!(parse_frame(&tagged).unwrap(), parse_frame(FRAME).unwrap());
    }

    #[test]
    fn ipa_wire_form_round_trips() {
        let tlvs = parse_frame(FRAME).unwrap();
        let wire = to_ipa(&tlvs);
        assert_eq!(wire[0], json!([1, "04001c73aabbcc"]));
        assert_eq!(wire[1], json!([2, "0545746865726e6574312f37"]));
        assert_eq!(wire[2], json!([3, "0078"]));
        assert_eq!(wire[4], json!([0, ""]));
        assert_eq!(from_ipa(&wire).unwrap(), tlvs);
        // Upper-case hex is read too.
        assert_eq!(
            from_ipa(&json!([[5, "4C454146"]])).unwrap(),
            vec![Tlv::system_name("LEAF")]
        );
    }

    #[test]
    fn bad_wire_data_is_an_error() {
        for bad in [
            json!({"1": "00"}),
            json!([[1]]),
            json!([[1, "0", 2]]),
            json!([["1", "00"]]),
            json!([[128, "00"]]),
            json!([[-1, "00"]]),
            json!([[1, 0]]),
            json!([[1, "abc"]]),
            json!([[1, "zz"]]),
            json!([[1, "é1"]]),
            json!([[1, "00".repeat(512)]]),
        ] {
            assert!(from_ipa(&bad).is_err(), "{bad}");
        }
        assert_eq!(from_ipa(&json!([])).unwrap(), vec![]);
    }

    #[test]
    fn truncated_and_malformed_frames_are_errors() {
        assert_eq!(parse_frame(&FRAME[..13]), Err(LldpError::ShortFrame(13)));
        assert_eq!(parse_frame(&FRAME[..14]), Err(LldpError::Empty));
        let mut ipv4 = FRAME.to_vec();
        ipv4[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(parse_frame(&ipv4), Err(LldpError::NotLldp(0x0800)));
        // A tag with nothing after it.
        assert!(matches!(
            parse_frame(
                &[0u8; 12]
                    .iter()
                    .chain(&[0x81, 0x00, 0, 1])
                    .copied()
                    .collect::<Vec<_>>()
            ),
            Err(LldpError::ShortFrame(16))
        ));
        // Cut in the middle of the port ID's value.
        assert_eq!(
            parse_frame(&FRAME[..30]),
            Err(LldpError::Truncated {
                offset: 9,
                kind: 2,
                declared: 12,
                available: 5
            })
        );
        // Cut between a TLV's two header bytes.
        assert_eq!(parse_lldpdu(&FRAME[14..24]), Err(LldpError::CutHeader(9)));
        // A length of 511 with a handful of bytes behind it.
        assert!(matches!(
            parse_lldpdu(&[0x03, 0xff, 0x00]),
            Err(LldpError::Truncated { declared: 511, .. })
        ));
        // Without an End TLV, the data's end ends it.
        assert_eq!(
            parse_lldpdu(&[0x06, 0x02, 0x00, 0x78]).unwrap(),
            vec![Tlv::ttl(120)]
        );
    }

    #[test]
    fn every_prefix_and_every_byte_flip_is_handled_without_panicking() {
        for n in 0..=FRAME.len() {
            let _ = parse_frame(&FRAME[..n]);
            let _ = parse_lldpdu(&FRAME[..n]);
        }
        for i in 0..FRAME.len() {
            for b in [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff] {
                let mut f = FRAME.to_vec();
                f[i] = b;
                if let Ok(tlvs) = parse_frame(&f) {
                    let _ = LocalLink::from_tlvs(&tlvs);
                }
            }
        }
    }

    #[test]
    fn values_that_do_not_fit_are_refused_when_building() {
        let long = Tlv::new(kind::PORT_DESCRIPTION, vec![b'x'; 512]);
        assert_eq!(
            encode_lldpdu(&[long]),
            Err(LldpError::TooLong { kind: 4, len: 512 })
        );
        assert_eq!(
            encode_lldpdu(&[Tlv::new(200, vec![])]),
            Err(LldpError::BadType(200))
        );
        let max = Tlv::new(kind::PORT_DESCRIPTION, vec![b'x'; 511]);
        let bytes = encode_lldpdu(std::slice::from_ref(&max)).unwrap();
        assert_eq!(parse_lldpdu(&bytes).unwrap(), vec![max, Tlv::end()]);
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(unhex("00ABff"), Some(vec![0x00, 0xab, 0xff]));
        assert_eq!(unhex(""), Some(vec![]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("0g"), None);
    }
}
