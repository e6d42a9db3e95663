//! LLDP from a real wire: a network namespace of the test's own with two veth
//! pairs. A "switch" thread sends frames out of one end of the first pair through
//! an AF_PACKET socket — a malformed LLDP frame, then its real one, over and over —
//! while the agent's collector listens on the far ends of both pairs: the first
//! reports the switch's TLVs in ironic-python-agent's form, the second hears
//! nothing and reports an empty list once the wait is over, and an interface that
//! does not exist is left out. Needs root (namespaces) and `ip`.

use std::mem::{size_of, zeroed};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferric_agent::lldp;
use ferric_types::lldp::{encode_frame, kind, to_ipa, Tlv};
use serde_json::json;

const SWITCH_MAC: [u8; 6] = [0x02, 0x1c, 0x73, 0x00, 0x00, 0x01];

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().expect("ip runs");
    assert!(st.success(), "ip {args:?}");
}

/// A namespace with veth pairs `fla0`–`flb0` and `fla1`–`flb1`, all up; deleted
/// on drop.
struct Net {
    ns: String,
}

impl Net {
    fn new() -> Net {
        let net = Net {
            ns: format!("flldp{}", std::process::id() % 100_000),
        };
        ip(&["netns", "add", &net.ns]);
        for i in 0..2 {
            let (a, b) = (format!("fla{i}"), format!("flb{i}"));
            ip(&[
                "-n", &net.ns, "link", "add", &a, "type", "veth", "peer", "name", &b,
            ]);
            ip(&["-n", &net.ns, "link", "set", &a, "up"]);
            ip(&["-n", &net.ns, "link", "set", &b, "up"]);
        }
        net
    }

    /// Runs `f` on a thread inside the namespace (sockets keep the namespace they
    /// were opened in).
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let path = format!("/run/netns/{}", self.ns);
        std::thread::spawn(move || {
            use std::os::fd::AsRawFd;
            let target = std::fs::File::open(path).unwrap();
            // SAFETY: setns on this thread only; the file stays open for the call.
            assert_eq!(
                unsafe { libc::setns(target.as_raw_fd(), libc::CLONE_NEWNET) },
                0,
                "setns"
            );
            f()
        })
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

/// Sends raw Ethernet frames out of one interface.
struct Sender {
    fd: i32,
    ifindex: i32,
}

impl Sender {
    fn open(name: &str) -> Sender {
        let c = std::ffi::CString::new(name).unwrap();
        // SAFETY: a NUL-terminated name; plain socket(2).
        let (ifindex, fd) = unsafe {
            (
                libc::if_nametoindex(c.as_ptr()) as i32,
                libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0),
            )
        };
        assert!(ifindex > 0 && fd >= 0, "raw socket on {name}");
        Sender { fd, ifindex }
    }

    fn send(&self, frame: &[u8]) {
        // SAFETY: all-zero is a valid sockaddr_ll; the fields used are set.
        let mut to: libc::sockaddr_ll = unsafe { zeroed() };
        to.sll_family = libc::AF_PACKET as u16;
        to.sll_ifindex = self.ifindex;
        to.sll_halen = 6;
        to.sll_addr[..6].copy_from_slice(&frame[..6]);
        // SAFETY: the frame and the address are valid for the lengths given.
        let n = unsafe {
            libc::sendto(
                self.fd,
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&to as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        assert_eq!(n, frame.len() as isize, "sendto");
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        // SAFETY: the descriptor is this struct's own.
        unsafe { libc::close(self.fd) };
    }
}

fn switch_tlvs() -> Vec<Tlv> {
    vec![
        Tlv::chassis_mac(SWITCH_MAC),
        Tlv::port_name("Ethernet1/12"),
        Tlv::ttl(120),
        Tlv::port_description("to the machine under test"),
        Tlv::system_name("leaf-netns"),
        Tlv::end(),
    ]
}

#[test]
fn the_collector_hears_each_nics_switch_over_a_veth_wire() {
    let net = Net::new();
    let good = encode_frame(SWITCH_MAC, &switch_tlvs()).unwrap();
    // An LLDP frame whose port ID claims more bytes than follow.
    let mut malformed = good[..14].to_vec();
    malformed.extend_from_slice(&[0x02, 0x07, 0x04, 0x02, 0x1c, 0x73, 0x00, 0x00, 0x01]);
    malformed.extend_from_slice(&[0x04, 0x40, 0x05, b'x']);
    let done = Arc::new(AtomicBool::new(false));
    let stop = done.clone();
    let switch = net.run(move || {
        let sender = Sender::open("fla0");
        let started = Instant::now();
        while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(20) {
            sender.send(&malformed);
            std::thread::sleep(Duration::from_millis(20));
            sender.send(&good);
            std::thread::sleep(Duration::from_millis(80));
        }
    });
    let started = Instant::now();
    let heard = net
        .run(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let names = ["flb0", "flb1", "nosuch0"].map(String::from);
            rt.block_on(lldp::listen(&names, Duration::from_secs(2)))
        })
        .join()
        .unwrap();
    let waited = started.elapsed();
    done.store(true, Ordering::SeqCst);
    switch.join().unwrap();

    assert_eq!(heard.get("flb0"), Some(&switch_tlvs()), "{heard:?}");
    assert_eq!(heard.get("flb1"), Some(&Vec::new()), "a silent wire");
    assert!(!heard.contains_key("nosuch0"), "{heard:?}");
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(10),
        "the silent NIC is waited for up to the timeout: {waited:?}"
    );

    // The inventory's `lldp` fields, as ironic-python-agent writes them.
    let flb0 = lldp::inventory_value(Some(&heard), "flb0");
    assert_eq!(flb0, to_ipa(&switch_tlvs()));
    assert_eq!(flb0[0], json!([kind::CHASSIS_ID, "04021c73000001"]));
    assert_eq!(
        flb0[1],
        json!([kind::PORT_ID, "0545746865726e6574312f3132"])
    );
    assert_eq!(flb0[4], json!([kind::SYSTEM_NAME, "6c6561662d6e65746e73"]));
    assert_eq!(lldp::inventory_value(Some(&heard), "flb1"), json!([]));
    assert_eq!(
        lldp::inventory_value(Some(&heard), "nosuch0"),
        serde_json::Value::Null
    );
}
