//! TFTP packets (RFC 1350) and the option extension (RFC 2347): parsing what clients
//! send and building what the server answers.

/// Opcodes.
pub const RRQ: u16 = 1;
pub const WRQ: u16 = 2;
pub const DATA: u16 = 3;
pub const ACK: u16 = 4;
pub const ERROR: u16 = 5;
pub const OACK: u16 = 6;

/// Error codes.
pub const ERR_NOT_DEFINED: u16 = 0;
pub const ERR_NOT_FOUND: u16 = 1;
pub const ERR_ACCESS: u16 = 2;
pub const ERR_ILLEGAL: u16 = 4;
pub const ERR_UNKNOWN_TID: u16 = 5;
pub const ERR_OPTIONS: u16 = 8;

/// A read or write request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub write: bool,
    pub filename: String,
    pub mode: String,
    /// Options in the order given, names lower-cased.
    pub options: Vec<(String, String)>,
}

/// What a client can send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Request(Request),
    Ack(u16),
    Error(u16, String),
    /// DATA or OACK from a client: never valid towards a read-only server.
    Other(u16),
}

fn split_strings(body: &[u8]) -> Option<Vec<String>> {
    if body.last() != Some(&0) {
        return None;
    }
    body[..body.len() - 1]
        .split(|&b| b == 0)
        .map(|s| std::str::from_utf8(s).ok().map(str::to_string))
        .collect()
}

/// Parses a datagram; `None` for anything malformed.
pub fn parse(buf: &[u8]) -> Option<Packet> {
    if buf.len() < 4 {
        return None;
    }
    let op = u16::from_be_bytes([buf[0], buf[1]]);
    match op {
        RRQ | WRQ => {
            let parts = split_strings(&buf[2..])?;
            if parts.len() < 2 || parts.len() % 2 != 0 || parts[0].is_empty() {
                return None;
            }
            let options = parts[2..]
                .chunks(2)
                .map(|kv| (kv[0].to_ascii_lowercase(), kv[1].clone()))
                .collect();
            Some(Packet::Request(Request {
                write: op == WRQ,
                filename: parts[0].clone(),
                mode: parts[1].to_ascii_lowercase(),
                options,
            }))
        }
        ACK if buf.len() == 4 => Some(Packet::Ack(u16::from_be_bytes([buf[2], buf[3]]))),
        ERROR => {
            let code = u16::from_be_bytes([buf[2], buf[3]]);
            let msg = split_strings(&buf[4..])
                .and_then(|v| v.into_iter().next())
                .unwrap_or_default();
            Some(Packet::Error(code, msg))
        }
        DATA | OACK => Some(Packet::Other(op)),
        _ => None,
    }
}

pub fn data(block: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(4 + payload.len());
    p.extend_from_slice(&DATA.to_be_bytes());
    p.extend_from_slice(&block.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

pub fn error(code: u16, msg: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(5 + msg.len());
    p.extend_from_slice(&ERROR.to_be_bytes());
    p.extend_from_slice(&code.to_be_bytes());
    p.extend_from_slice(msg.as_bytes());
    p.push(0);
    p
}

pub fn oack(options: &[(String, String)]) -> Vec<u8> {
    let mut p = OACK.to_be_bytes().to_vec();
    for (k, v) in options {
        p.extend_from_slice(k.as_bytes());
        p.push(0);
        p.extend_from_slice(v.as_bytes());
        p.push(0);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_junk() {
        let rrq = b"\x00\x01pxelinux.0\x00octet\x00blksize\x001468\x00TSIZE\x000\x00";
        let Some(Packet::Request(r)) = parse(rrq) else {
            panic!("not parsed")
        };
        assert_eq!(r.filename, "pxelinux.0");
        assert_eq!(r.mode, "octet");
        assert_eq!(
            r.options,
            [
                ("blksize".into(), "1468".into()),
                ("tsize".into(), "0".into())
            ]
        );
        assert!(!r.write);
        assert_eq!(parse(b"\x00\x04\x00\x07"), Some(Packet::Ack(7)));
        for junk in [
            &b""[..],
            b"\x00",
            b"\x00\x01name",
            b"\x00\x01\x00octet\x00",
            b"\x00\x09abcd",
            b"\x00\x01a\x00octet\x00blksize\x00",
        ] {
            assert_eq!(parse(junk), None, "{junk:?}");
        }
    }
}
