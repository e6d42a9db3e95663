//! Hearing LLDP on one NIC: an AF_PACKET raw socket bound to the interface for
//! ethertype 0x88cc, joined to LLDP's three group addresses so the NIC's multicast
//! filter lets them through (no promiscuous mode, and the memberships end with the
//! socket), read without blocking through tokio. Frames the machine itself sends
//! are skipped. Needs CAP_NET_RAW, as ironic-python-agent does.

use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use ferric_types::lldp::{ETHERTYPE, NEAREST_BRIDGE, OTHER_GROUPS};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Enough for any LLDPDU (at most 1500 bytes) with its Ethernet header and tags.
const FRAME_BUFFER: usize = 2048;

/// A raw socket hearing one interface's LLDP frames.
pub struct LldpSocket {
    fd: AsyncFd<OwnedFd>,
}

impl LldpSocket {
    /// Opens the socket on interface `name`; must run inside a tokio runtime.
    pub fn open(name: &str) -> io::Result<LldpSocket> {
        let c_name = CString::new(name)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad interface name"))?;
        // SAFETY: a NUL-terminated string is passed; the call only reads it.
        let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
        if index == 0 {
            return Err(io::Error::last_os_error());
        }
        let ifindex = i32::try_from(index)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index"))?;
        let protocol = ETHERTYPE.to_be();
        // SAFETY: plain socket(2); the descriptor is owned right below.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                i32::from(protocol),
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: an all-zero sockaddr_ll is valid; the fields that matter are set.
        let mut addr: libc::sockaddr_ll = unsafe { zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = protocol;
        addr.sll_ifindex = ifindex;
        // SAFETY: the address points at a sockaddr_ll of the size given.
        let bound = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if bound < 0 {
            return Err(io::Error::last_os_error());
        }
        for group in std::iter::once(NEAREST_BRIDGE).chain(OTHER_GROUPS) {
            if let Err(e) = join_group(&fd, ifindex, group) {
                tracing::debug!(interface = %name, error = %e, "cannot join an LLDP group address");
            }
        }
        // SAFETY: the OwnedFd owns the descriptor for as long as the AsyncFd holds
        // it, and always names that same descriptor.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
            .map_err(|e| e.into_parts().1)?;
        Ok(LldpSocket { fd })
    }

    /// The next frame that came in from the wire (not one this machine sent).
    pub async fn recv(&self) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; FRAME_BUFFER];
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| receive(fd.get_ref(), &mut buf)) {
                Ok(Ok((len, pkttype))) => {
                    if pkttype == libc::PACKET_OUTGOING {
                        continue;
                    }
                    return Ok(buf[..len.min(buf.len())].to_vec());
                }
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

/// Adds a multicast membership for `group` on the interface.
fn join_group(fd: &OwnedFd, ifindex: i32, group: [u8; 6]) -> io::Result<()> {
    // SAFETY: an all-zero packet_mreq is valid; the fields that matter are set.
    let mut mreq: libc::packet_mreq = unsafe { zeroed() };
    mreq.mr_ifindex = ifindex;
    mreq.mr_type = libc::PACKET_MR_MULTICAST as u16;
    mreq.mr_alen = 6;
    mreq.mr_address[..6].copy_from_slice(&group);
    // SAFETY: the option value points at a packet_mreq of the size given.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_ADD_MEMBERSHIP,
            (&mreq as *const libc::packet_mreq).cast(),
            size_of::<libc::packet_mreq>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One `recvfrom`: the frame's length and its packet type (incoming, outgoing…).
fn receive(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<(usize, u8)> {
    // SAFETY: an all-zero sockaddr_ll is valid for the kernel to fill in.
    let mut from: libc::sockaddr_ll = unsafe { zeroed() };
    let mut from_len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: the buffer and the address are valid for the lengths given.
    let n = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            0,
            (&mut from as *mut libc::sockaddr_ll).cast(),
            &mut from_len,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((n as usize, from.sll_pkttype))
}
