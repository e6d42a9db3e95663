//! The `generic-ssh` switch driver against a real SSH server (OpenSSH's sshd on
//! loopback, started by the test) whose forced command records every line it
//! receives: binding and unbinding a port, and a bond as a link aggregate, send the
//! OS's templates, filled in; the host key is pinned on first use; a dead switch
//! fails after its retries. Needs
//! root (sshd), openssh-server and openssh-client.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferric_net::switch::generic_ssh::{GenericSsh, SshLogin, Templates};
use ferric_net::switch::{Segment, SwitchDriver};

struct Sshd(Child);

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
}

fn start_sshd(dir: &Path, port: u16) -> Sshd {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all("/run/sshd").unwrap();
    keygen(&dir.join("host_key"));
    keygen(&dir.join("client_key"));
    std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
    let record = dir.join("record.sh");
    std::fs::write(
        &record,
        format!(
            "#!/bin/sh\ninput=$(cat)\nprintf '%s\\n--\\n' \"$input\" >> {0}/received\n\
             case \"$input\" in *Gi9/9/9*) echo \"% Invalid input detected at '^' marker.\";; esac\n",
            dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             StrictModes no\nForceCommand {d}/record.sh\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("sshd.log")).unwrap())
        .spawn()
        .expect("sshd runs (openssh-server)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "sshd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Sshd(child)
}

fn whoami() -> String {
    String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test]
async fn commands_reach_the_switch() {
    let dir = std::env::temp_dir().join(format!("ferric-ssh-switch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let _sshd = start_sshd(&dir, port);
    let login = SshLogin {
        host: "127.0.0.1".into(),
        port,
        username: whoami(),
        password: None,
        key_file: Some(dir.join("client_key")),
        known_hosts: dir.join("known_hosts"),
        askpass: dir.join("askpass"),
    };
    let switch = GenericSsh::new(login.clone(), Templates::for_os("cisco_ios").unwrap());
    switch.bind("Gi1/0/7", Segment::Vlan(120)).await.unwrap();
    switch.bind("Gi1/0/7", Segment::Vlan(120)).await.unwrap();
    switch.unbind("Gi1/0/7").await.unwrap();
    let received = std::fs::read_to_string(dir.join("received")).unwrap();
    let sessions: Vec<&str> = received.split("--\n").filter(|s| !s.is_empty()).collect();
    assert_eq!(sessions.len(), 3, "{received}");
    assert_eq!(
        sessions[0],
        "configure terminal\nvlan 120\nexit\ninterface Gi1/0/7\nswitchport mode access\n\
         switchport access vlan 120\nno shutdown\nend\n"
    );
    assert_eq!(
        sessions[0], sessions[1],
        "the same change twice sends the same commands"
    );
    assert_eq!(
        sessions[2],
        "configure terminal\ninterface Gi1/0/7\nshutdown\nend\n"
    );
    let pinned = std::fs::read_to_string(dir.join("known_hosts")).unwrap();
    let host_key = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
    let key_body = host_key.split_whitespace().nth(1).unwrap();
    assert!(
        pinned.contains(key_body),
        "the host key is pinned on first use"
    );
    assert!(
        switch.bind("Gi1/0/7", Segment::Flat).await.is_err(),
        "a flat segment is refused"
    );

    // A bond as a link aggregate: the port-channel on the VLAN, each member in it.
    let members = vec!["Gi1/0/1".to_string(), "Gi1/0/2".to_string()];
    switch
        .bind_group("12", &members, Segment::Vlan(300))
        .await
        .unwrap();
    switch.unbind_group("12", &members).await.unwrap();
    let received = std::fs::read_to_string(dir.join("received")).unwrap();
    let sessions: Vec<&str> = received.split("--\n").filter(|s| !s.is_empty()).collect();
    assert_eq!(
        sessions[3],
        "configure terminal\nvlan 300\nexit\ninterface Port-channel12\nswitchport mode access\n\
         switchport access vlan 300\nno shutdown\ninterface Gi1/0/1\nchannel-group 12 mode active\n\
         no shutdown\ninterface Gi1/0/2\nchannel-group 12 mode active\nno shutdown\nend\n"
    );
    assert_eq!(
        sessions[4],
        "configure terminal\ninterface Port-channel12\nshutdown\ninterface Gi1/0/1\nno channel-group\n\
         shutdown\ninterface Gi1/0/2\nno channel-group\nshutdown\nend\n"
    );

    let juniper = GenericSsh::new(login.clone(), Templates::for_os("juniper_junos").unwrap());
    juniper.bind("xe-0/0/3", Segment::Vlan(7)).await.unwrap();
    let received = std::fs::read_to_string(dir.join("received")).unwrap();
    assert!(received
        .contains("set interfaces xe-0/0/3 unit 0 family ethernet-switching vlan members vlan7\n"));

    // A refused command fails the change even though the session ends well; names
    // that could smuggle commands never reach the switch.
    let once =
        GenericSsh::new(login.clone(), Templates::for_os("cisco_ios").unwrap()).with_attempts(1);
    let err = once.bind("Gi9/9/9", Segment::Vlan(5)).await.unwrap_err();
    assert!(err.contains("% Invalid input"), "{err}");
    let before = std::fs::read_to_string(dir.join("received")).unwrap();
    for bad in ["Gi1/0/7\nreload", "eth0; reboot", "$(id)", "-oProxyCommand"] {
        assert!(once.bind(bad, Segment::Vlan(5)).await.is_err(), "{bad:?}");
    }
    let members = vec!["Gi1/0/1".to_string()];
    assert!(once
        .bind_group("1\nreload", &members, Segment::Vlan(5))
        .await
        .is_err());
    assert_eq!(
        std::fs::read_to_string(dir.join("received")).unwrap(),
        before
    );

    let dead = GenericSsh::new(
        SshLogin {
            port: free_port(),
            ..login
        },
        Templates::for_os("sonic").unwrap(),
    )
    .with_attempts(2);
    let err = dead.bind("Ethernet0", Segment::Vlan(5)).await.unwrap_err();
    assert!(err.contains("127.0.0.1"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
