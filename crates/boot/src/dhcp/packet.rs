//! DHCPv4 messages (RFC 2131 / RFC 2132): the fixed BOOTP header and the options
//! that follow the magic cookie, parsed from and written to bytes. Option overload
//! (52) is honoured when reading; long options are split when writing (RFC 3396).

use std::net::Ipv4Addr;

pub const BOOTREQUEST: u8 = 1;
pub const BOOTREPLY: u8 = 2;
const COOKIE: [u8; 4] = [99, 130, 83, 99];
const FIXED: usize = 236;

/// Message types (option 53).
pub mod kind {
    pub const DISCOVER: u8 = 1;
    pub const OFFER: u8 = 2;
    pub const REQUEST: u8 = 3;
    pub const DECLINE: u8 = 4;
    pub const ACK: u8 = 5;
    pub const NAK: u8 = 6;
    pub const RELEASE: u8 = 7;
    pub const INFORM: u8 = 8;
}

/// Option codes used here.
pub mod opt {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS: u8 = 6;
    pub const HOSTNAME: u8 = 12;
    pub const VENDOR_SPECIFIC: u8 = 43;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const OVERLOAD: u8 = 52;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAMETER_LIST: u8 = 55;
    pub const RENEWAL_TIME: u8 = 58;
    pub const REBINDING_TIME: u8 = 59;
    pub const VENDOR_CLASS: u8 = 60;
    pub const CLIENT_ID: u8 = 61;
    pub const TFTP_SERVER: u8 = 66;
    pub const BOOTFILE: u8 = 67;
    pub const USER_CLASS: u8 = 77;
    pub const CLIENT_ARCH: u8 = 93;
    pub const CLIENT_NDI: u8 = 94;
    pub const UUID_GUID: u8 = 97;
    pub const END: u8 = 255;
}

/// A DHCP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub op: u8,
    pub htype: u8,
    pub hlen: u8,
    pub hops: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 16],
    pub sname: String,
    pub file: String,
    /// Options in order (code, value); a code may appear once (values of repeated
    /// codes are concatenated on reading, RFC 3396).
    pub options: Vec<(u8, Vec<u8>)>,
}

fn ip(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

fn cstring(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).to_string()
}

/// Reads options until END; appends repeated codes.
fn read_options(mut b: &[u8], out: &mut Vec<(u8, Vec<u8>)>) -> Option<()> {
    while let Some((&code, rest)) = b.split_first() {
        match code {
            opt::PAD => b = rest,
            opt::END => return Some(()),
            _ => {
                let (&len, rest) = rest.split_first()?;
                let value = rest.get(..len as usize)?;
                match out.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, v)) => v.extend_from_slice(value),
                    None => out.push((code, value.to_vec())),
                }
                b = &rest[len as usize..];
            }
        }
    }
    Some(())
}

impl Message {
    /// Parses a datagram; `None` when it is not a well-formed DHCP message.
    pub fn parse(b: &[u8]) -> Option<Message> {
        if b.len() < FIXED + 4 || b[FIXED..FIXED + 4] != COOKIE {
            return None;
        }
        let mut chaddr = [0u8; 16];
        chaddr.copy_from_slice(&b[28..44]);
        let mut m = Message {
            op: b[0],
            htype: b[1],
            hlen: b[2],
            hops: b[3],
            xid: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            secs: u16::from_be_bytes([b[8], b[9]]),
            flags: u16::from_be_bytes([b[10], b[11]]),
            ciaddr: ip(&b[12..16]),
            yiaddr: ip(&b[16..20]),
            siaddr: ip(&b[20..24]),
            giaddr: ip(&b[24..28]),
            chaddr,
            sname: cstring(&b[44..108]),
            file: cstring(&b[108..236]),
            options: Vec::new(),
        };
        if m.hlen > 16 {
            return None;
        }
        read_options(&b[FIXED + 4..], &mut m.options)?;
        match m.option(opt::OVERLOAD).and_then(|v| v.first().copied()) {
            Some(1) => read_options(&b[108..236], &mut m.options)?,
            Some(2) => read_options(&b[44..108], &mut m.options)?,
            Some(3) => {
                read_options(&b[108..236], &mut m.options)?;
                read_options(&b[44..108], &mut m.options)?;
            }
            _ => {}
        }
        Some(m)
    }

    /// The message type (option 53).
    pub fn kind(&self) -> Option<u8> {
        self.option(opt::MESSAGE_TYPE)
            .and_then(|v| v.first().copied())
    }

    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_slice())
    }

    pub fn set_option(&mut self, code: u8, value: Vec<u8>) {
        match self.options.iter_mut().find(|(c, _)| *c == code) {
            Some((_, v)) => *v = value,
            None => self.options.push((code, value)),
        }
    }

    /// The client's hardware address (Ethernet: 6 bytes).
    pub fn mac(&self) -> Option<[u8; 6]> {
        (self.htype == 1 && self.hlen == 6).then(|| {
            let mut m = [0u8; 6];
            m.copy_from_slice(&self.chaddr[..6]);
            m
        })
    }

    /// The reply skeleton for a request: same xid, flags, giaddr, chaddr.
    pub fn reply_to(req: &Message, kind_code: u8) -> Message {
        Message {
            op: BOOTREPLY,
            htype: req.htype,
            hlen: req.hlen,
            hops: 0,
            xid: req.xid,
            secs: 0,
            flags: req.flags,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: req.giaddr,
            chaddr: req.chaddr,
            sname: String::new(),
            file: String::new(),
            options: vec![(opt::MESSAGE_TYPE, vec![kind_code])],
        }
    }

    /// The datagram (at least 300 bytes, as BOOTP clients expect).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; FIXED];
        b[0] = self.op;
        b[1] = self.htype;
        b[2] = self.hlen;
        b[3] = self.hops;
        b[4..8].copy_from_slice(&self.xid.to_be_bytes());
        b[8..10].copy_from_slice(&self.secs.to_be_bytes());
        b[10..12].copy_from_slice(&self.flags.to_be_bytes());
        b[12..16].copy_from_slice(&self.ciaddr.octets());
        b[16..20].copy_from_slice(&self.yiaddr.octets());
        b[20..24].copy_from_slice(&self.siaddr.octets());
        b[24..28].copy_from_slice(&self.giaddr.octets());
        b[28..44].copy_from_slice(&self.chaddr);
        let sname = self.sname.as_bytes();
        b[44..44 + sname.len().min(63)].copy_from_slice(&sname[..sname.len().min(63)]);
        let file = self.file.as_bytes();
        b[108..108 + file.len().min(127)].copy_from_slice(&file[..file.len().min(127)]);
        b.extend_from_slice(&COOKIE);
        for (code, value) in &self.options {
            if value.is_empty() {
                b.extend_from_slice(&[*code, 0]);
            }
            for piece in value.chunks(255) {
                b.push(*code);
                b.push(piece.len() as u8);
                b.extend_from_slice(piece);
            }
        }
        b.push(opt::END);
        if b.len() < 300 {
            b.resize(300, 0);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discover() -> Message {
        let mut chaddr = [0u8; 16];
        chaddr[..6].copy_from_slice(&[0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        Message {
            op: BOOTREQUEST,
            htype: 1,
            hlen: 6,
            hops: 0,
            xid: 0xdead_beef,
            secs: 4,
            flags: 0x8000,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr,
            sname: String::new(),
            file: String::new(),
            options: vec![
                (opt::MESSAGE_TYPE, vec![kind::DISCOVER]),
                (
                    opt::VENDOR_CLASS,
                    b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
                ),
                (opt::CLIENT_ARCH, vec![0, 0]),
                (opt::USER_CLASS, vec![4, b'i', b'P', b'X', b'E']),
                (opt::HOSTNAME, vec![b'x'; 300]),
            ],
        }
    }

    #[test]
    fn round_trip() {
        let m = discover();
        let bytes = m.to_bytes();
        assert!(bytes.len() >= 300);
        let back = Message::parse(&bytes).unwrap();
        assert_eq!(back, m, "a 300-byte option is split and joined again");
        assert_eq!(back.kind(), Some(kind::DISCOVER));
        assert_eq!(back.mac(), Some([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
    }

    #[test]
    fn overload_and_junk() {
        let mut m = discover();
        m.options = vec![
            (opt::MESSAGE_TYPE, vec![kind::REQUEST]),
            (opt::OVERLOAD, vec![1]),
        ];
        let mut bytes = m.to_bytes();
        // A bootfile option hidden in the `file` field.
        bytes[108..113].copy_from_slice(&[opt::BOOTFILE, 2, b'a', b'b', opt::END]);
        let back = Message::parse(&bytes).unwrap();
        assert_eq!(back.option(opt::BOOTFILE), Some(&b"ab"[..]));
        assert!(Message::parse(&bytes[..200]).is_none());
        let mut no_cookie = bytes.clone();
        no_cookie[236] = 0;
        assert!(Message::parse(&no_cookie).is_none());
        let mut truncated_option = m.to_bytes();
        let at = 240 + 3;
        truncated_option.truncate(at);
        truncated_option.extend_from_slice(&[opt::HOSTNAME, 50, b'x']);
        assert!(Message::parse(&truncated_option).is_none());
    }
}
